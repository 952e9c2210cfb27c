import { KeyObject, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { RECEIPT_TYP, type ReceiptClaims } from '@dvd/contracts';

/**
 * The platform's receipt signing keys (ADR 0019): private JWKs from `RECEIPT_SIGNING_KEYS` or
 * the file `RECEIPT_SIGNING_KEY_FILE`, never from the database. The first key signs; the others
 * are retired and only verify (their public halves are published while a receipt they signed
 * can still be shown).
 */
export type ReceiptAlgorithm = 'EdDSA' | 'ES256';

/** A public receipt key as the JWKS publishes it. */
export interface PublicReceiptKey {
  kty: 'OKP' | 'EC';
  crv: 'Ed25519' | 'P-256';
  x: string;
  y?: string;
  kid: string;
  alg: ReceiptAlgorithm;
  use: 'sig';
}

export interface ReceiptKey {
  kid: string;
  alg: ReceiptAlgorithm;
  privateKey: KeyObject;
  publicJwk: PublicReceiptKey;
}

export class ReceiptKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReceiptKeyError';
  }
}

const KID = /^[A-Za-z0-9._:-]{1,64}$/;
const MAX_KEYS = 20;
type Jwk = Record<string, unknown>;

function parseOne(raw: unknown, i: number): ReceiptKey {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ReceiptKeyError(`receipt key ${i} must be a JWK object`);
  const jwk = raw as Jwk;
  if (typeof jwk.kid !== 'string' || !KID.test(jwk.kid))
    throw new ReceiptKeyError(`receipt key ${i} needs a kid ([A-Za-z0-9._:-], at most 64)`);
  const kid = jwk.kid;
  let alg: ReceiptAlgorithm;
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') alg = 'EdDSA';
  else if (jwk.kty === 'EC' && jwk.crv === 'P-256') alg = 'ES256';
  else throw new ReceiptKeyError(`receipt key ${kid} must be Ed25519 (kty OKP) or P-256 (kty EC)`);
  if (jwk.alg !== undefined && jwk.alg !== alg) throw new ReceiptKeyError(`receipt key ${kid}: alg must be ${alg} for its curve`);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new ReceiptKeyError(`receipt key ${kid}: use must be sig`);
  if (typeof jwk.d !== 'string') throw new ReceiptKeyError(`receipt key ${kid} must be private (d)`);
  let privateKey: KeyObject;
  try {
    const members =
      alg === 'EdDSA' ? { kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d } : { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d };
    privateKey = createPrivateKey({ key: members as never, format: 'jwk' });
  } catch {
    throw new ReceiptKeyError(`receipt key ${kid} is not a valid ${alg === 'EdDSA' ? 'Ed25519' : 'P-256'} key`);
  }
  // the public half as derived from the private key (a wrong x/y in the file cannot be published)
  const pub = privateKey.export({ format: 'jwk' }) as Jwk;
  const publicJwk: PublicReceiptKey = {
    kty: alg === 'EdDSA' ? 'OKP' : 'EC',
    crv: alg === 'EdDSA' ? 'Ed25519' : 'P-256',
    x: String(pub.x),
    ...(alg === 'ES256' ? { y: String(pub.y) } : {}),
    kid,
    alg,
    use: 'sig',
  };
  return { kid, alg, privateKey, publicJwk };
}

/** The keys, current first. */
export class ReceiptKeyring {
  readonly byKid: ReadonlyMap<string, ReceiptKey>;

  constructor(readonly keys: readonly ReceiptKey[]) {
    if (keys.length === 0) throw new ReceiptKeyError('at least one receipt signing key is needed');
    this.byKid = new Map(keys.map((k) => [k.kid, k]));
  }

  /** The key that signs new receipts. */
  get current(): ReceiptKey {
    return this.keys[0];
  }

  /** The retired keys: they no longer sign, they are published while receipts they signed exist. */
  get retired(): readonly ReceiptKey[] {
    return this.keys.slice(1);
  }

  /**
   * A compact JWS (`typ` `dvd-receipt+jwt`, the current key's `kid`) over the claims. Ed25519
   * signatures are deterministic; ES256 ones are not, so a receipt is stored, never re-signed.
   */
  sign(claims: ReceiptClaims): { jws: string; kid: string } {
    const key = this.current;
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
    const input = `${b64({ alg: key.alg, typ: RECEIPT_TYP, kid: key.kid })}.${b64(claims)}`;
    const signature =
      key.alg === 'EdDSA'
        ? sign(null, Buffer.from(input), key.privateKey)
        : sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    return { jws: `${input}.${signature.toString('base64url')}`, kid: key.kid };
  }
}

/**
 * `RECEIPT_SIGNING_KEYS` (or the file's content): a JSON array of private JWKs, current first,
 * or a JWK Set `{"keys":[…]}` in that order. Each has a unique `kid`.
 */
export function parseReceiptKeys(text: string): ReceiptKeyring {
  if (text.length > 256 * 1024) throw new ReceiptKeyError('the receipt keys are too long');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ReceiptKeyError('the receipt keys are not JSON');
  }
  const list = Array.isArray(parsed) ? parsed : parsed && typeof parsed === 'object' ? (parsed as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_KEYS)
    throw new ReceiptKeyError(`the receipt keys must be a JSON array (or {"keys":[…]}) of 1 to ${MAX_KEYS} private JWKs`);
  const keys = list.map(parseOne);
  const kids = new Set<string>();
  for (const k of keys) {
    if (kids.has(k.kid)) throw new ReceiptKeyError(`receipt key ${k.kid} appears twice`);
    kids.add(k.kid);
  }
  return new ReceiptKeyring(keys);
}

/** A fresh receipt signing key as a private JWK (Ed25519 by default): for development starts and tests. */
export function generateReceiptSigningKey(kid: string, alg: ReceiptAlgorithm = 'EdDSA'): Jwk {
  const { privateKey } = alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...(privateKey.export({ format: 'jwk' }) as Jwk), kid, alg, use: 'sig' };
}
