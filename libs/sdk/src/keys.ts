import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, type KeyLike } from 'jose';
import { DvdCryptoError } from './errors';

/** The key-management algorithms the platform accepts for authority keys. */
export type AuthorityKeyAlgorithm = 'RSA-OAEP-256' | 'ECDH-ES+A256KW';
export const KEY_ALGORITHMS: readonly string[] = ['RSA-OAEP-256', 'ECDH-ES+A256KW', 'ECDH-ES'];
export const CONTENT_ENCRYPTION = 'A256GCM';

/** A public JWK as the platform stores it (`kid`, `use: "enc"`, `alg`). */
export type PublicJwk = JWK & { kid: string; alg: string; use?: 'enc' };
/** A private JWK (with `d`); keep it on the device, mode 0600. */
export type PrivateJwk = JWK & { kid: string; alg: string; d: string };

export interface KeyPair {
  publicJwk: PublicJwk;
  /** The private key as JWK; absent when made non-extractable (browser storage). */
  privateJwk?: PrivateJwk;
  /** The private key as a usable key object. */
  privateKey: KeyLike;
  kid: string;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

/** Strips private members and keeps what a public encryption JWK carries. */
export function publicPart(jwk: JWK): PublicJwk {
  const pub: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(jwk)) if (!PRIVATE_MEMBERS.includes(k) && k !== 'key_ops' && k !== 'ext') pub[k] = v;
  return pub as unknown as PublicJwk;
}

async function makePair(alg: AuthorityKeyAlgorithm, extractable: boolean, kidPrefix?: string): Promise<KeyPair> {
  const { publicKey, privateKey } = await generateKeyPair(
    alg,
    alg === 'RSA-OAEP-256' ? { modulusLength: 3072, extractable } : { crv: 'P-256', extractable },
  );
  const pub = await exportJWK(publicKey);
  // RFC 7638 thumbprint: stable, collision-free and says nothing about the holder
  const thumb = await calculateJwkThumbprint(pub, 'sha256');
  const kid = kidPrefix ? `${kidPrefix}-${thumb.slice(0, 16)}` : thumb;
  const publicJwk: PublicJwk = { ...publicPart(pub), kid, alg, use: 'enc' };
  const privateJwk = extractable ? ({ ...(await exportJWK(privateKey)), kid, alg, use: 'enc' } as PrivateJwk) : undefined;
  return { publicJwk, privateJwk, privateKey, kid };
}

/**
 * An authority's encryption key pair: RSA-3072 for `RSA-OAEP-256` (default) or EC P-256 for
 * `ECDH-ES+A256KW`. The `kid` is the key's RFC 7638 thumbprint (with an optional prefix).
 */
export function generateAuthorityKeyPair(o: { alg?: AuthorityKeyAlgorithm; kidPrefix?: string } = {}): Promise<KeyPair> {
  return makePair(o.alg ?? 'RSA-OAEP-256', true, o.kidPrefix);
}

/**
 * A citizen's reply key pair (EC P-256, `ECDH-ES+A256KW`): officials encrypt replies to its
 * public half. `extractable: false` (browsers) keeps the private key inside Web Crypto.
 */
export function generateReplyKeyPair(o: { extractable?: boolean } = {}): Promise<KeyPair> {
  return makePair('ECDH-ES+A256KW', o.extractable ?? true);
}

/** Reads a JWK file's text (public or private); refuses anything that is not an encryption key of a known algorithm. */
export function parseJwk(text: string): JWK & { kid?: string; alg?: string } {
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new DvdCryptoError('not a JWK: the text is not JSON');
  }
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) throw new DvdCryptoError('not a JWK: expected a JSON object');
  const k = jwk as JWK;
  if (k.kty !== 'RSA' && k.kty !== 'EC') throw new DvdCryptoError('not an encryption JWK: kty must be RSA or EC');
  if (k.alg !== undefined && !KEY_ALGORITHMS.includes(k.alg)) throw new DvdCryptoError(`unsupported key algorithm ${k.alg}`);
  return k;
}

/** The JWK's algorithm: its `alg`, else RSA-OAEP-256 for RSA and ECDH-ES+A256KW for EC. */
export function jwkAlgorithm(jwk: JWK): string {
  return jwk.alg ?? (jwk.kty === 'RSA' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW');
}

/** A private JWK as a key for decryption (`extractable: false` keeps it inside Web Crypto). */
export async function importPrivateKey(jwk: JWK, o: { extractable?: boolean } = {}): Promise<KeyLike> {
  if (typeof jwk.d !== 'string') throw new DvdCryptoError('this JWK has no private part (d): it cannot decrypt');
  try {
    const key = await importJWK({ ...jwk, ext: o.extractable ?? false }, jwkAlgorithm(jwk));
    return key as KeyLike;
  } catch (err) {
    throw new DvdCryptoError('the private JWK could not be imported', { cause: err });
  }
}

/** A public JWK as a key for encryption. */
export async function importPublicKey(jwk: JWK): Promise<KeyLike> {
  try {
    return (await importJWK(publicPart(jwk), jwkAlgorithm(jwk))) as KeyLike;
  } catch (err) {
    throw new DvdCryptoError('the public JWK could not be imported', { cause: err });
  }
}

/** Serialises a JWK for a file (pretty, trailing newline). */
export const jwkFileText = (jwk: JWK) => `${JSON.stringify(jwk, null, 2)}\n`;
