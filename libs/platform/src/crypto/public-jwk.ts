import { JWK, calculateJwkThumbprint, importJWK } from 'jose';
import type { Jwk } from '@dvd/contracts';

/** Key-management algorithms we accept for encryption keys, by key type (docs/api-conventions.md). */
export const RSA_KEY_ALG = 'RSA-OAEP-256';
export const EC_KEY_ALG = 'ECDH-ES+A256KW';
export const MIN_RSA_BITS = 3072;
const EC_CURVES: Record<string, number> = { 'P-256': 32, 'P-384': 48 };
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export type KeyRule =
  | 'not-a-jwk'
  | 'private-key'
  | 'symmetric-key'
  | 'unsupported-key-type'
  | 'rsa-key-too-small'
  | 'unsupported-curve'
  | 'algorithm-not-allowed'
  | 'wrong-key-use'
  | 'invalid-key';

export class KeyValidationError extends Error {
  constructor(
    readonly rule: KeyRule,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'KeyValidationError';
  }
}

export interface PublicEncryptionKey {
  kid: string;
  alg: typeof RSA_KEY_ALG | typeof EC_KEY_ALG;
  /** The normalised public JWK (the contract's `Jwk`): only public members, with kid, use "enc" and alg. */
  jwk: Jwk & { kid: string; use: 'enc'; alg: string };
}

function b64urlBytes(value: unknown): number {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) return -1;
  const bytes = Buffer.from(value, 'base64url');
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++; // leading zero octets do not count
  return (bytes.length - i) * 8 - Math.clz32(bytes[i]) + 24;
}

/**
 * Validates a public encryption key for the key directory (and a citizen's `replyKey`):
 * RSA ≥ 3072 bit with RSA-OAEP-256, or EC P-256/P-384 with ECDH-ES+A256KW. Refuses
 * private and symmetric keys and anything else, naming the rule that failed. A missing
 * `kid` becomes the key's RFC 7638 thumbprint.
 */
export async function validatePublicEncryptionJwk(input: unknown): Promise<PublicEncryptionKey> {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || typeof (input as JWK).kty !== 'string') {
    throw new KeyValidationError('not-a-jwk', 'The key must be a JWK object with a "kty" member');
  }
  const jwk = input as JWK & Record<string, unknown>;
  const found = PRIVATE_MEMBERS.filter((m) => m in jwk);
  if (jwk.kty === 'oct') throw new KeyValidationError('symmetric-key', 'Symmetric keys (kty "oct") are not accepted; send a public key');
  if (found.length) {
    throw new KeyValidationError('private-key', `This is a private key (it has ${found.join(', ')}); send only the public key`);
  }
  if (jwk.use !== undefined && jwk.use !== 'enc') throw new KeyValidationError('wrong-key-use', 'The key\'s "use" must be "enc"');

  let alg: PublicEncryptionKey['alg'];
  let publicMembers: Jwk;
  if (jwk.kty === 'RSA') {
    alg = RSA_KEY_ALG;
    if (jwk.alg !== RSA_KEY_ALG) throw new KeyValidationError('algorithm-not-allowed', `RSA keys must declare "alg": "${RSA_KEY_ALG}"`);
    const bits = b64urlBytes(jwk.n);
    if (bits < 0 || b64urlBytes(jwk.e) < 0) throw new KeyValidationError('invalid-key', 'An RSA key needs base64url "n" and "e"');
    if (bits < MIN_RSA_BITS)
      throw new KeyValidationError('rsa-key-too-small', `RSA keys need at least ${MIN_RSA_BITS} bits; this one has ${bits}`);
    publicMembers = { kty: 'RSA', n: jwk.n, e: jwk.e };
  } else if (jwk.kty === 'EC') {
    alg = EC_KEY_ALG;
    const size = typeof jwk.crv === 'string' ? EC_CURVES[jwk.crv] : undefined;
    if (!size) throw new KeyValidationError('unsupported-curve', 'EC keys must use curve P-256 or P-384');
    if (jwk.alg !== EC_KEY_ALG) throw new KeyValidationError('algorithm-not-allowed', `EC keys must declare "alg": "${EC_KEY_ALG}"`);
    const ok = (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9_-]+$/.test(v) && Buffer.from(v, 'base64url').length === size;
    if (!ok(jwk.x) || !ok(jwk.y))
      throw new KeyValidationError('invalid-key', `An EC ${jwk.crv} key needs base64url "x" and "y" of ${size} bytes`);
    publicMembers = { kty: 'EC', crv: jwk.crv as 'P-256' | 'P-384', x: jwk.x, y: jwk.y };
  } else {
    throw new KeyValidationError('unsupported-key-type', 'Only RSA and EC public keys are accepted');
  }

  try {
    await importJWK({ ...publicMembers, alg }, alg); // the key must really be usable (e.g. a point on the curve)
  } catch {
    throw new KeyValidationError('invalid-key', 'The key material is not a valid public key');
  }
  const kid = typeof jwk.kid === 'string' && jwk.kid.length > 0 ? jwk.kid : await calculateJwkThumbprint(publicMembers, 'sha256');
  if (kid.length > 200 || !/^[\x21-\x7e]+$/.test(kid))
    throw new KeyValidationError('invalid-key', 'The "kid" must be 1–200 printable ASCII characters');
  return { kid, alg, jwk: { ...publicMembers, kid, use: 'enc', alg } };
}
