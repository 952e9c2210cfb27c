/**
 * What a decrypted file probably is, from its first bytes: the upload carries no file
 * name (the metadata is what the platform may see), so the saved file gets an extension
 * from its content.
 */
const SIGNATURES: Array<{ ext: string; type: string; bytes: number[]; offset?: number }> = [
  { ext: 'pdf', type: 'application/pdf', bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] },
  { ext: 'png', type: 'image/png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { ext: 'jpg', type: 'image/jpeg', bytes: [0xff, 0xd8, 0xff] },
  { ext: 'gif', type: 'image/gif', bytes: [0x47, 0x49, 0x46, 0x38] },
  { ext: 'tif', type: 'image/tiff', bytes: [0x49, 0x49, 0x2a, 0x00] },
  { ext: 'tif', type: 'image/tiff', bytes: [0x4d, 0x4d, 0x00, 0x2a] },
  { ext: 'xml', type: 'application/xml', bytes: [0x3c, 0x3f, 0x78, 0x6d, 0x6c] },
  // ZIP containers (docx, xlsx, odt … are ZIPs too; saved as .zip unless told otherwise)
  { ext: 'zip', type: 'application/zip', bytes: [0x50, 0x4b, 0x03, 0x04] },
];

export interface FileKind {
  ext: string;
  type: string;
}

export function sniffFileKind(bytes: Uint8Array): FileKind {
  for (const s of SIGNATURES) {
    const off = s.offset ?? 0;
    if (bytes.length >= off + s.bytes.length && s.bytes.every((b, i) => bytes[off + i] === b)) return { ext: s.ext, type: s.type };
  }
  if (looksLikeText(bytes)) return { ext: 'txt', type: 'text/plain' };
  return { ext: 'bin', type: 'application/octet-stream' };
}

function looksLikeText(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 4096);
  if (sample.length === 0) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample.length < bytes.length ? trimPartialUtf8(sample) : sample);
  } catch {
    return false;
  }
  // control characters other than tab, newline, carriage return → binary
  return !sample.some((b) => b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f);
}

/** Drops an incomplete UTF-8 sequence at the end of a sample. */
function trimPartialUtf8(sample: Uint8Array): Uint8Array {
  let end = sample.length;
  for (let i = 1; i <= 3 && i <= sample.length; i++) {
    const b = sample[sample.length - i];
    if ((b & 0xc0) === 0x80) continue;
    if ((b & 0xc0) === 0xc0) end = sample.length - i;
    break;
  }
  return sample.subarray(0, end);
}

/** A file name from the Aktenzeichen and document id: letters, digits, dot, dash, underscore only. */
export function safeFileName(base: string, ext: string): string {
  const clean = base
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+|_+$/g, '')
    .slice(0, 80);
  return `${clean || 'dokument'}.${ext}`;
}
