import { B64URL, JweValidationError, fail } from './jwe-inspector-errors';
import { JSON_LIMITS, JsonContainerParts, JsonObject, JweJsonScanner } from './jwe-inspector-json';

export { JweValidationError } from './jwe-inspector-errors';
export type { JweRule } from './jwe-inspector-errors';
export { JSON_LIMITS as JWE_JSON_LIMITS } from './jwe-inspector-json';

/** Container rules (docs/api-conventions.md, Uploads): structure only, never decryption. */
export const ALLOWED_KEY_ALGS = ['RSA-OAEP-256', 'ECDH-ES', 'ECDH-ES+A256KW'] as const;
export const ALLOWED_CONTENT_ENCS = ['A256GCM'] as const;
const IV_BYTES = 12; // A256GCM
const TAG_BYTES = 16;
const MAX_HEADER_BYTES = JSON_LIMITS.maxStringChars;

export interface JweSummary {
  format: 'compact' | 'json';
  /** The `kid` of every recipient that names one. */
  kids: string[];
  algs: string[];
}

export interface JweInspectorOptions {
  /**
   * Called once the recipients are known; throw (or return false) to refuse. Intake
   * requires one kid to be an active key of the target authority; messages accept any.
   */
  acceptKids?: (kids: string[]) => boolean;
}

const b64urlByte = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') b64urlByte[c.charCodeAt(0)] = 1;
/** Two bytes read as one 16-bit word (either byte order): 1 where both are base64url. */
const b64urlPair = new Uint8Array(65536);
for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) b64urlPair[a | (b << 8)] = b64urlByte[a] & b64urlByte[b];

/**
 * Where the run of base64url bytes that starts at `from` ends (the first other byte, or the
 * chunk's end). Nearly every byte of a container is in such a run: two bytes per lookup
 * (a 64 KiB table) take half the time of one, the last byte or two one at a time.
 */
function b64urlRunEnd(chunk: Buffer, from: number): number {
  const n = chunk.length;
  let j = from;
  if ((chunk.byteOffset + j) % 2 === 1 && j < n) {
    if (b64urlByte[chunk[j]] !== 1) return j;
    j++;
  }
  if (n - j >= 2) {
    const words = new Uint16Array(chunk.buffer, chunk.byteOffset + j, (n - j) >> 1);
    const m = words.length;
    let w = 0;
    while (w < m && b64urlPair[words[w]] === 1) w++;
    j += w * 2;
  }
  while (j < n && b64urlByte[chunk[j]] === 1) j++;
  return j;
}
const DOT = 0x2e;
const isWhitespace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

function decodeHeader(segment: string, where: string): Record<string, unknown> {
  if (!segment || !B64URL.test(segment)) fail('malformed-jwe', `The ${where} is not base64url`);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    fail('malformed-jwe', `The ${where} is not JSON`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('malformed-jwe', `The ${where} is not a JSON object`);
  return header as Record<string, unknown>;
}

function b64urlLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}

/** Checks one recipient's effective header (protected ∪ shared unprotected ∪ per-recipient). */
function checkHeader(h: Record<string, unknown>, encryptedKey: string | undefined): { alg: string; kid?: string } {
  if ('crit' in h) fail('critical-header', 'Containers with "crit" header parameters are not accepted');
  if (typeof h.alg !== 'string' || !(ALLOWED_KEY_ALGS as readonly string[]).includes(h.alg)) {
    fail('algorithm-not-allowed', `The key management algorithm must be one of ${ALLOWED_KEY_ALGS.join(', ')}`);
  }
  if (typeof h.enc !== 'string' || !(ALLOWED_CONTENT_ENCS as readonly string[]).includes(h.enc)) {
    fail('encryption-not-allowed', `The content encryption must be ${ALLOWED_CONTENT_ENCS.join(', ')}`);
  }
  if (h.kid !== undefined && (typeof h.kid !== 'string' || h.kid.length === 0 || h.kid.length > 200))
    fail('malformed-jwe', 'The "kid" must be a string');
  const direct = h.alg === 'ECDH-ES';
  if (encryptedKey === undefined || !B64URL.test(encryptedKey)) fail('malformed-jwe', 'The encrypted key is not base64url');
  if (direct && encryptedKey.length > 0) fail('malformed-jwe', 'ECDH-ES (direct key agreement) has no encrypted key');
  if (!direct && encryptedKey.length === 0) fail('malformed-jwe', `${h.alg} needs an encrypted key`);
  return { alg: h.alg, kid: h.kid as string | undefined };
}

function checkIvAndTag(iv: unknown, tag: unknown) {
  if (typeof iv !== 'string' || !B64URL.test(iv) || iv.length !== b64urlLength(IV_BYTES))
    fail('malformed-jwe', `The IV must be ${IV_BYTES} bytes, base64url`);
  if (typeof tag !== 'string' || tag.length === 0) fail('truncated-jwe', 'The authentication tag is missing');
  if (!B64URL.test(tag) || tag.length !== b64urlLength(TAG_BYTES))
    fail('truncated-jwe', `The authentication tag must be ${TAG_BYTES} bytes, base64url`);
}

/**
 * Inspects a JWE container as it streams by — compact serialization (five base64url
 * segments) or JSON serialization (tokenised by stream-json, the ciphertext never held) —
 * and refuses anything else as early as the bytes allow: a PDF fails at its first byte.
 */
export class JweInspector {
  private mode: 'unknown' | 'compact' | 'json' = 'unknown';
  private summary?: JweSummary;
  private failure?: JweValidationError;
  private total = 0;
  // compact state
  private segment = 0;
  private segmentLength = [0, 0, 0, 0, 0];
  private headerText = '';
  private encryptedKey = '';
  private iv = '';
  private tagText = '';
  private trailingWhitespace = false;
  // json state
  private scanner?: JweJsonScanner;

  constructor(private readonly options: JweInspectorOptions = {}) {}

  push(chunk: Buffer): void {
    if (this.failure) throw this.failure;
    try {
      let offset = 0;
      if (this.mode === 'unknown') {
        while (
          offset < chunk.length &&
          (chunk[offset] === 0x20 || chunk[offset] === 0x0a || chunk[offset] === 0x0d || chunk[offset] === 0x09)
        )
          offset++;
        if (offset === chunk.length) return;
        this.mode = chunk[offset] === 0x7b /* { */ ? 'json' : 'compact';
        if (this.mode === 'json') this.scanner = new JweJsonScanner();
      }
      this.total += chunk.length;
      if (this.mode === 'compact') this.pushCompact(chunk, offset);
      else this.scanner!.write(offset ? chunk.subarray(offset) : chunk);
    } catch (err) {
      this.failure = err instanceof JweValidationError ? err : new JweValidationError('malformed-jwe', 'The container is not well-formed');
      throw this.failure;
    }
  }

  /** Call after the last byte: checks completeness and returns what was found. */
  async finish(): Promise<JweSummary> {
    if (this.failure) throw this.failure;
    if (this.mode === 'unknown') fail('not-a-jwe', 'The payload is empty');
    try {
      return this.mode === 'compact' ? this.finishCompact() : this.finishJson(this.scanner!.end());
    } catch (err) {
      this.failure = err instanceof JweValidationError ? err : new JweValidationError('malformed-jwe', 'The container is not well-formed');
      throw this.failure;
    }
  }

  // ---- compact ---------------------------------------------------------------------

  /**
   * One pass over the bytes: runs of base64url characters are measured in a tight loop (the
   * ciphertext, nearly all of a container, is only counted); only the small segments
   * (header, encrypted key, IV, tag) are kept as text, sliced per run, never per byte.
   */
  private pushCompact(chunk: Buffer, start: number): void {
    const n = chunk.length;
    let i = start;
    while (i < n) {
      if (this.trailingWhitespace) {
        for (; i < n; i++) if (!isWhitespace(chunk[i])) fail('malformed-jwe', 'Data after the end of the container');
        return;
      }
      const j = b64urlRunEnd(chunk, i);
      if (j > i) this.takeRun(chunk, i, j);
      if (j === n) return;
      const byte = chunk[j];
      i = j + 1;
      if (byte === DOT) {
        if (this.segment === 0) this.onProtectedHeader();
        this.segment++;
        if (this.segment > 4) fail('malformed-jwe', 'A compact JWE has exactly five segments');
        continue;
      }
      if (isWhitespace(byte) && this.segment === 4) {
        this.trailingWhitespace = true;
        continue;
      }
      fail(
        this.segment === 0 && this.segmentLength[0] < 64 ? 'not-a-jwe' : 'malformed-jwe',
        'The payload is not a JWE (compact or JSON serialization)',
      );
    }
  }

  /** Base64url characters `chunk[from..to)` of the current segment. */
  private takeRun(chunk: Buffer, from: number, to: number): void {
    const segment = this.segment;
    this.segmentLength[segment] += to - from;
    const keep = (kept: string, max: number) =>
      kept.length < max ? kept + chunk.toString('latin1', from, Math.min(to, from + max - kept.length)) : kept;
    switch (segment) {
      case 0:
        if (this.segmentLength[0] > MAX_HEADER_BYTES) fail('header-too-large', 'The protected header is too large (or this is not a JWE)');
        this.headerText += chunk.toString('latin1', from, to);
        break;
      case 1:
        this.encryptedKey = keep(this.encryptedKey, 4096);
        break;
      case 2:
        this.iv = keep(this.iv, 64);
        break;
      case 4:
        this.tagText = keep(this.tagText, 64);
        break;
    }
  }

  private compactHeader?: Record<string, unknown>;

  private onProtectedHeader() {
    this.compactHeader = decodeHeader(this.headerText, 'protected header');
    // alg/enc/crit/kid can be judged now, before the (large) ciphertext streams by
    const h = this.compactHeader;
    if ('crit' in h) fail('critical-header', 'Containers with "crit" header parameters are not accepted');
    if (typeof h.alg !== 'string' || !(ALLOWED_KEY_ALGS as readonly string[]).includes(h.alg))
      fail('algorithm-not-allowed', `The key management algorithm must be one of ${ALLOWED_KEY_ALGS.join(', ')}`);
    if (typeof h.enc !== 'string' || !(ALLOWED_CONTENT_ENCS as readonly string[]).includes(h.enc))
      fail('encryption-not-allowed', `The content encryption must be ${ALLOWED_CONTENT_ENCS.join(', ')}`);
    this.acceptKids(typeof h.kid === 'string' ? [h.kid] : []);
  }

  private finishCompact(): JweSummary {
    if (this.segment < 4) fail('truncated-jwe', 'The container ends before its five segments are complete');
    if (this.segmentLength[3] === 0) fail('truncated-jwe', 'The ciphertext is empty');
    const { alg, kid } = checkHeader(this.compactHeader!, this.segmentLength[1] > 4096 ? 'x'.repeat(8) : this.encryptedKey);
    checkIvAndTag(this.iv, this.tagText);
    this.summary = { format: 'compact', kids: kid ? [kid] : [], algs: [alg] };
    return this.summary;
  }

  // ---- JSON serialization ----------------------------------------------------------

  private finishJson(doc: JsonContainerParts): JweSummary {
    if (!doc.members.has('ciphertext') || doc.ciphertextChars === 0) fail('truncated-jwe', 'The ciphertext is missing or empty');
    const prot = doc.protected !== undefined ? decodeHeader(doc.protected, 'protected header') : {};
    const shared: JsonObject = doc.unprotected ?? {};
    let recipients: Array<{ header?: JsonObject; encrypted_key?: string }>;
    if (doc.recipients !== undefined) {
      if (doc.recipients.length === 0) fail('malformed-jwe', '"recipients" must be a non-empty array');
      if (doc.members.has('header') || doc.members.has('encrypted_key'))
        fail('malformed-jwe', 'Use either "recipients" or the flattened members, not both');
      recipients = doc.recipients;
    } else {
      recipients = [{ header: doc.header, encrypted_key: doc.encrypted_key }];
    }
    const kids: string[] = [];
    const algs: string[] = [];
    for (const r of recipients) {
      const own = r.header ?? {};
      // RFC 7516 §7.2.1: the three header sets must be disjoint
      const names = [...Object.keys(shared), ...Object.keys(own), ...Object.keys(prot)];
      if (new Set(names).size !== names.length) fail('malformed-jwe', 'A header parameter appears in more than one header');
      const merged: Record<string, unknown> = { ...shared, ...own, ...prot };
      const { alg, kid } = checkHeader(merged, r.encrypted_key ?? '');
      algs.push(alg);
      if (kid) kids.push(kid);
    }
    checkIvAndTag(doc.iv, doc.tag);
    this.acceptKids(kids);
    this.summary = { format: 'json', kids, algs };
    return this.summary;
  }

  private acceptKids(kids: string[]) {
    if (this.options.acceptKids && !this.options.acceptKids(kids)) {
      fail(
        'unknown-kid',
        kids.length ? 'No recipient key ("kid") is an active key of the target authority' : 'The container names no recipient key ("kid")',
      );
    }
  }

  get bytes() {
    return this.total;
  }
}

/** Inspects a whole container held in memory (JSON uploads, message blobs). */
export async function inspectJwe(data: Buffer | string, options: JweInspectorOptions = {}): Promise<JweSummary> {
  const inspector = new JweInspector(options);
  inspector.push(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  return inspector.finish();
}
