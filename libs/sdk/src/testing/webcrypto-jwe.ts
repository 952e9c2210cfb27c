/**
 * Compact JWE (RFC 7516/7518) written on Web Crypto alone — no `jose` — so that the SDK's
 * containers are checked against a second, independent implementation. Test code only
 * (imported by `*.spec.ts`); it runs in Node ≥ 20 and browsers like the SDK.
 *
 * Supported: `alg` RSA-OAEP-256, ECDH-ES+A256KW (P-256) and `dir` (making only, to test a
 * refusal); `enc` A256GCM and A128GCM.
 */
import type { JWK } from 'jose';

const subtle = globalThis.crypto.subtle;
export type WebCryptoKey = (typeof CryptoKey)['prototype'];

export type JweAlg = 'RSA-OAEP-256' | 'ECDH-ES+A256KW' | 'dir';
export type JweEnc = 'A256GCM' | 'A128GCM';

export interface JweHeader {
  alg: string;
  enc: string;
  kid?: string;
  cty?: string;
  epk?: { kty: string; crv: string; x: string; y: string };
  apu?: string;
  apv?: string;
  [member: string]: unknown;
}

// ── base64url ──────────────────────────────────────────────────────────────────────────

const B64U = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function base64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64U[n >> 18] + B64U[(n >> 12) & 63] + B64U[(n >> 6) & 63] + B64U[n & 63];
  }
  if (bytes.length - i === 1) {
    const n = bytes[i] << 16;
    out += B64U[n >> 18] + B64U[(n >> 12) & 63];
  } else if (bytes.length - i === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += B64U[n >> 18] + B64U[(n >> 12) & 63] + B64U[(n >> 6) & 63];
  }
  return out;
}

export function fromBase64url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new Error('not base64url');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const ch of text) {
    value = (value << 6) | B64U.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

const ascii = (text: string) => new TextEncoder().encode(text);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function uint32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** Random bytes of any length (getRandomValues takes at most 64 KiB a call). */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += 65536) globalThis.crypto.getRandomValues(out.subarray(at, Math.min(at + 65536, length)));
  return out;
}

// ── RFC 7518 §4.6.2: the Concat KDF, one SHA-256 round (keydatalen 256 = the hash length) ──

export async function concatKdf(z: Uint8Array, alg: string, apu: Uint8Array, apv: Uint8Array, keyDataLenBits = 256): Promise<Uint8Array> {
  if (keyDataLenBits > 256) throw new Error('one round of SHA-256 gives at most 256 bits');
  const algorithmId = ascii(alg);
  const otherInfo = concat(
    uint32be(algorithmId.length),
    algorithmId,
    uint32be(apu.length),
    apu,
    uint32be(apv.length),
    apv,
    uint32be(keyDataLenBits),
  );
  const digest = new Uint8Array(await subtle.digest('SHA-256', concat(uint32be(1), z, otherInfo)));
  return digest.subarray(0, keyDataLenBits / 8);
}

const ecPublic = (jwk: { kty: string; crv: string; x: string; y: string }) =>
  subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, { name: 'ECDH', namedCurve: 'P-256' }, true, []);

async function ecdhKek(
  privateKey: WebCryptoKey,
  publicKey: WebCryptoKey,
  header: { alg: string; apu?: string; apv?: string },
): Promise<WebCryptoKey> {
  const z = new Uint8Array(await subtle.deriveBits({ name: 'ECDH', public: publicKey }, privateKey, 256));
  const apu = header.apu === undefined ? new Uint8Array(0) : fromBase64url(header.apu);
  const apv = header.apv === undefined ? new Uint8Array(0) : fromBase64url(header.apv);
  const kek = await concatKdf(z, header.alg, apu, apv, 256);
  return subtle.importKey('raw', kek, 'AES-KW', false, ['wrapKey', 'unwrapKey']);
}

const cekBits = (enc: string) => {
  if (enc === 'A256GCM') return 256;
  if (enc === 'A128GCM') return 128;
  throw new Error(`unsupported enc ${enc}`);
};

// ── encrypt ────────────────────────────────────────────────────────────────────────────

export interface EncryptOptions {
  alg?: JweAlg;
  enc?: JweEnc;
  /** Extra protected-header members (kid, cty, apu, apv …); `kid` defaults to the key's. */
  header?: Partial<JweHeader>;
  /** The CEK for `dir` (its bytes are the key; nothing is wrapped). */
  directKey?: Uint8Array;
}

/** Encrypts `plaintext` for a public JWK (RSA or EC P-256) as a compact JWE. */
export async function webCryptoEncrypt(plaintext: Uint8Array, recipient: JWK, o: EncryptOptions = {}): Promise<string> {
  const alg = o.alg ?? (recipient.kty === 'RSA' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW');
  const enc = o.enc ?? 'A256GCM';
  const header: JweHeader = { alg, enc, ...(recipient.kid ? { kid: recipient.kid } : {}), ...o.header };
  const cekBytes = alg === 'dir' ? o.directKey! : randomBytes(cekBits(enc) / 8);
  const cek = await subtle.importKey('raw', cekBytes, { name: 'AES-GCM' }, true, ['encrypt']);

  let encryptedKey = new Uint8Array(0);
  if (alg === 'RSA-OAEP-256') {
    const { n, e } = recipient;
    const wrapping = await subtle.importKey('jwk', { kty: 'RSA', n, e }, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['wrapKey']);
    encryptedKey = new Uint8Array(await subtle.wrapKey('raw', cek, wrapping, { name: 'RSA-OAEP' }));
  } else if (alg === 'ECDH-ES+A256KW') {
    const ephemeral = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
    const epk = (await subtle.exportKey('jwk', ephemeral.publicKey)) as { kty: string; crv: string; x: string; y: string };
    header.epk = { kty: epk.kty, crv: epk.crv, x: epk.x, y: epk.y };
    const kek = await ecdhKek(ephemeral.privateKey, await ecPublic(recipient as typeof epk), header);
    encryptedKey = new Uint8Array(await subtle.wrapKey('raw', cek, kek, 'AES-KW'));
  }

  const protectedB64 = base64url(ascii(JSON.stringify(header)));
  const iv = randomBytes(12);
  const sealed = new Uint8Array(
    await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: ascii(protectedB64), tagLength: 128 }, cek, plaintext),
  );
  const ciphertext = sealed.subarray(0, sealed.length - 16);
  const tag = sealed.subarray(sealed.length - 16);
  return [protectedB64, base64url(encryptedKey), base64url(iv), base64url(ciphertext), base64url(tag)].join('.');
}

// ── decrypt ────────────────────────────────────────────────────────────────────────────

export function protectedHeader(jwe: string): JweHeader {
  return JSON.parse(new TextDecoder().decode(fromBase64url(jwe.split('.')[0]))) as JweHeader;
}

/**
 * Decrypts a compact JWE with a private key: a private JWK, or a Web Crypto key usable for
 * RSA-OAEP `unwrapKey` / ECDH `deriveBits`. Accepts only RSA-OAEP-256 and ECDH-ES+A256KW
 * with A256GCM or A128GCM; throws on anything else or any failed check.
 */
export async function webCryptoDecrypt(jwe: string, key: JWK | WebCryptoKey): Promise<{ plaintext: Uint8Array; header: JweHeader }> {
  const parts = jwe.trim().split('.');
  if (parts.length !== 5) throw new Error('a compact JWE has five parts');
  const [protectedB64, encryptedKeyB64, ivB64, ciphertextB64, tagB64] = parts;
  const header = protectedHeader(jwe);
  const encryptedKey = fromBase64url(encryptedKeyB64);
  const iv = fromBase64url(ivB64);
  const tag = fromBase64url(tagB64);
  if (iv.length !== 12 || tag.length !== 16) throw new Error('AES-GCM needs a 96-bit IV and a 128-bit tag');
  const gcm = { name: 'AES-GCM', length: cekBits(header.enc) };
  const isJwk = (k: JWK | WebCryptoKey): k is JWK => 'kty' in k;

  let cek: WebCryptoKey;
  if (header.alg === 'RSA-OAEP-256') {
    const unwrapping = isJwk(key)
      ? await subtle.importKey(
          'jwk',
          privateMembers(key, ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi']),
          { name: 'RSA-OAEP', hash: 'SHA-256' },
          false,
          ['unwrapKey'],
        )
      : key;
    cek = await subtle.unwrapKey('raw', encryptedKey, unwrapping, { name: 'RSA-OAEP' }, gcm, false, ['decrypt']);
  } else if (header.alg === 'ECDH-ES+A256KW') {
    if (!header.epk || header.epk.kty !== 'EC' || header.epk.crv !== 'P-256') throw new Error('ECDH-ES needs an EC P-256 epk');
    const agreeing = isJwk(key)
      ? await subtle.importKey('jwk', privateMembers(key, ['crv', 'x', 'y', 'd']), { name: 'ECDH', namedCurve: 'P-256' }, false, [
          'deriveBits',
        ])
      : key;
    const kek = await ecdhKek(agreeing, await ecPublic(header.epk), header);
    cek = await subtle.unwrapKey('raw', encryptedKey, kek, 'AES-KW', gcm, false, ['decrypt']);
  } else {
    throw new Error(`unsupported alg ${header.alg}`);
  }

  const plaintext = await subtle.decrypt(
    { name: 'AES-GCM', iv, additionalData: ascii(protectedB64), tagLength: 128 },
    cek,
    concat(fromBase64url(ciphertextB64), tag),
  );
  return { plaintext: new Uint8Array(plaintext), header };
}

function privateMembers(jwk: JWK, names: Array<keyof JWK>): JWK {
  const out: JWK = { kty: jwk.kty };
  for (const name of names) if (jwk[name] !== undefined) Object.assign(out, { [name]: jwk[name] });
  return out;
}

/**
 * How two byte arrays differ (`undefined` when equal) — fast on megabytes, where a deep
 * equality matcher takes seconds.
 */
export function byteDifference(actual: Uint8Array, expected: Uint8Array): string | undefined {
  if (actual.length !== expected.length) return `length ${actual.length}, expected ${expected.length}`;
  for (let i = 0; i < actual.length; i++) if (actual[i] !== expected[i]) return `first difference at byte ${i}`;
  return undefined;
}
