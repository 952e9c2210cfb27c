import { FlattenedEncrypt, compactDecrypt, decodeProtectedHeader, type JWK, type KeyLike } from 'jose';
import { DvdCryptoError } from './errors';
import { CONTENT_ENCRYPTION, KEY_ALGORITHMS, importPrivateKey, importPublicKey, jwkAlgorithm } from './keys';

/** A key that can decrypt: an imported key, or private JWKs (chosen by the container's `kid`). */
export type DecryptionKey = KeyLike | JWK | JWK[];

/**
 * Encrypts bytes for a public key as a compact JWE: `alg` from the key (`RSA-OAEP-256` or
 * `ECDH-ES+A256KW`), `enc` `A256GCM`, the key's `kid` in the protected header.
 */
export async function encryptFor(plaintext: Uint8Array, publicJwk: JWK, o: { cty?: string } = {}): Promise<string> {
  return compactParts(await encryptFlattened(plaintext, publicJwk, o)).join('.');
}

/**
 * {@link encryptFor}, as the compact serialization's ASCII bytes, written part by part into one
 * buffer: a large file's container is never one string as well (for 50 MiB, 67 MiB less at
 * the peak of a send).
 */
export async function encryptForBytes(plaintext: Uint8Array, publicJwk: JWK, o: { cty?: string } = {}): Promise<Uint8Array> {
  const parts = compactParts(await encryptFlattened(plaintext, publicJwk, o));
  const bytes = new Uint8Array(parts.reduce((n, part) => n + part.length, parts.length - 1));
  const encoder = new TextEncoder();
  let at = 0;
  for (const [i, part] of parts.entries()) {
    if (i > 0) bytes[at++] = 0x2e; // '.'
    at += encoder.encodeInto(part, bytes.subarray(at)).written; // base64url: one byte per character
  }
  return bytes;
}

type Flattened = Awaited<ReturnType<FlattenedEncrypt['encrypt']>>;

/** The five parts of the compact serialization (RFC 7516 §7.1). */
function compactParts(jwe: Flattened): string[] {
  return [jwe.protected ?? '', jwe.encrypted_key ?? '', jwe.iv ?? '', jwe.ciphertext, jwe.tag ?? ''];
}

async function encryptFlattened(plaintext: Uint8Array, publicJwk: JWK, o: { cty?: string }): Promise<Flattened> {
  if (!publicJwk.kid) throw new DvdCryptoError('the recipient key has no kid');
  const alg = jwkAlgorithm(publicJwk);
  if (!KEY_ALGORITHMS.includes(alg)) throw new DvdCryptoError(`unsupported key algorithm ${alg}`);
  const key = await importPublicKey(publicJwk);
  try {
    return await new FlattenedEncrypt(plaintext)
      .setProtectedHeader({ alg, enc: CONTENT_ENCRYPTION, kid: publicJwk.kid, ...(o.cty ? { cty: o.cty } : {}) })
      .encrypt(key);
  } catch (err) {
    throw new DvdCryptoError('encryption failed', { cause: err });
  }
}

/** The `kid` a compact JWE was made for (read from its protected header, nothing decrypted). */
export function containerKid(jwe: string): string | undefined {
  try {
    return decodeProtectedHeader(jwe).kid;
  } catch {
    throw new DvdCryptoError('not a compact JWE');
  }
}

async function resolveKey(jwe: string, key: DecryptionKey): Promise<KeyLike> {
  if (!Array.isArray(key) && !isJwk(key)) return key;
  const candidates = Array.isArray(key) ? key : [key];
  const kid = containerKid(jwe);
  const match = candidates.find((k) => k.kid === kid) ?? (candidates.length === 1 && !candidates[0].kid ? candidates[0] : undefined);
  if (!match) throw new DvdCryptoError(`no private key for kid ${kid ?? '(none)'}`);
  return importPrivateKey(match);
}

const isJwk = (k: unknown): k is JWK => typeof k === 'object' && k !== null && 'kty' in k && !('type' in k && 'algorithm' in k);

/** Decrypts a compact JWE (only `RSA-OAEP-256`, `ECDH-ES(+A256KW)` with `A256GCM` are accepted). */
export async function decryptWith(jwe: string, key: DecryptionKey): Promise<Uint8Array> {
  const k = await resolveKey(jwe.trim(), key);
  try {
    const { plaintext } = await compactDecrypt(jwe.trim(), k, {
      keyManagementAlgorithms: [...KEY_ALGORITHMS],
      contentEncryptionAlgorithms: [CONTENT_ENCRYPTION],
    });
    return plaintext;
  } catch (err) {
    throw new DvdCryptoError('decryption failed: wrong key or a modified container', { cause: err });
  }
}

/** What a message carries inside its encrypted `contentBlob` (JSON, `cty: "dvd-message+json"`). */
export interface MessageContent {
  /** The message text (may carry a phone number for a callback: it never leaves the JWE). */
  text: string;
}
export const MESSAGE_CTY = 'dvd-message+json';
const MAX_MESSAGE_TEXT = 20_000;

export async function encryptMessage(content: MessageContent, recipient: JWK): Promise<string> {
  if (typeof content.text !== 'string' || content.text.length === 0) throw new DvdCryptoError('a message needs text');
  if (content.text.length > MAX_MESSAGE_TEXT) throw new DvdCryptoError(`a message text is at most ${MAX_MESSAGE_TEXT} characters`);
  return encryptFor(new TextEncoder().encode(JSON.stringify({ text: content.text })), recipient, { cty: MESSAGE_CTY });
}

export async function decryptMessage(contentBlob: string, key: DecryptionKey): Promise<MessageContent> {
  const bytes = await decryptWith(contentBlob, key);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new DvdCryptoError('the message is not a dvd message (no JSON inside)');
  }
  if (!parsed || typeof parsed !== 'object' || typeof (parsed as MessageContent).text !== 'string') {
    throw new DvdCryptoError('the message is not a dvd message (no text)');
  }
  return { text: (parsed as MessageContent).text };
}
