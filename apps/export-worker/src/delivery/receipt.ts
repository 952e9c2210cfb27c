import { Readable } from 'node:stream';

/** A receipt is kept only as a small JSON object: at most this many bytes … */
export const RECEIPT_MAX_BYTES = 4 * 1024;
/** … and nested at most this deep (the object itself is depth 1). */
export const RECEIPT_MAX_DEPTH = 4;

export type ReceiptResult = { ok: true; receipt: Record<string, unknown> } | { ok: false; reason: 'receipt-too-large' | 'invalid-receipt' };

/**
 * Reads a receiver's answer with the byte cap enforced while streaming: as soon as the
 * body exceeds `maxBytes` (or its Content-Length says it will), `abort` is called — which
 * cuts the connection — and reading stops. Nothing beyond the cap is ever held.
 */
export async function readCapped(
  body: Readable,
  contentLength: string | undefined,
  abort: () => void,
  maxBytes = RECEIPT_MAX_BYTES,
): Promise<Buffer | 'too-large'> {
  if (contentLength !== undefined && Number(contentLength) > maxBytes) {
    abort();
    body.destroy();
    return 'too-large';
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        abort();
        body.destroy();
        return 'too-large';
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (total > maxBytes) return 'too-large';
    throw err;
  }
  return Buffer.concat(chunks);
}

/** A JSON text as a receipt: a plain object within the size and depth bounds, or why not. */
export function parseReceipt(raw: Buffer, maxBytes = RECEIPT_MAX_BYTES, maxDepth = RECEIPT_MAX_DEPTH): ReceiptResult {
  if (raw.length > maxBytes) return { ok: false, reason: 'receipt-too-large' };
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch {
    return { ok: false, reason: 'invalid-receipt' };
  }
  if (!isPlainObject(value) || depth(value) > maxDepth) return { ok: false, reason: 'invalid-receipt' };
  return { ok: true, receipt: value };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function depth(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + children.reduce<number>((max, c) => Math.max(max, depth(c)), 0);
}
