import { KeyObject, createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';

/**
 * Who a key speaks for. `gateway` signs end-user identities (never role `service`);
 * `service:<name>` signs only its own service identity, for internal routes (ADR 0014).
 */
export type Signer = 'gateway' | `service:${string}`;

const SIGNER = /^(gateway|service:[a-z][a-z0-9-]{0,40})$/;
const KID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * A key that signs identities: a private Ed25519 key (the gateway's, or one calling
 * service's own), or a secret the gateway shares with one service (HMAC-SHA256, ADR 0025).
 */
export interface SigningKey {
  kid: string;
  signer: Signer;
  key: KeyObject;
}

/**
 * A key a service verifies with; its `kid` names the key, `signer` whom it speaks for: a
 * public Ed25519 key, or the secret this service shares with the gateway.
 */
export interface VerifyKey {
  signer: Signer;
  key: KeyObject;
}

/** A secret of `IDENTITY_HMAC_KEYS`: the gateway's key for the one service named by `audience`. */
export interface HmacKey extends SigningKey {
  signer: 'gateway';
  audience: string;
}

export class IdentityKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityKeyError';
  }
}

type Jwk = Record<string, unknown>;

function parseJson(text: string, what: string): unknown {
  if (text.length > 64 * 1024) throw new IdentityKeyError(`${what} is too long`);
  try {
    return JSON.parse(text);
  } catch {
    throw new IdentityKeyError(`${what} is not JSON`);
  }
}

function meta(jwk: Jwk, what: string): { kid: string; signer: Signer } {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') throw new IdentityKeyError(`${what} must be an Ed25519 JWK (kty OKP, crv Ed25519)`);
  if (typeof jwk.kid !== 'string' || !KID.test(jwk.kid)) throw new IdentityKeyError(`${what} needs a kid ([A-Za-z0-9._:-], at most 64)`);
  if (typeof jwk.signer !== 'string' || !SIGNER.test(jwk.signer))
    throw new IdentityKeyError(`${what} needs a signer: "gateway" or "service:<name>"`);
  return { kid: jwk.kid, signer: jwk.signer as Signer };
}

/** `IDENTITY_SIGNING_KEY` / `SERVICE_SIGNING_KEY`: one private Ed25519 JWK with `kid` and `signer`. */
export function parseSigningKey(text: string): SigningKey {
  const jwk = parseJson(text, 'the signing key');
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) throw new IdentityKeyError('the signing key must be a JWK object');
  const { kid, signer } = meta(jwk as Jwk, 'the signing key');
  const { kty, crv, x, d } = jwk as Jwk;
  if (typeof d !== 'string') throw new IdentityKeyError('the signing key must be private (d)');
  try {
    return { kid, signer, key: createPrivateKey({ key: { kty, crv, x, d } as never, format: 'jwk' }) };
  } catch {
    throw new IdentityKeyError('the signing key is not a valid Ed25519 key');
  }
}

/**
 * `IDENTITY_VERIFY_KEYS`: a JWK Set of public Ed25519 keys, each with `kid` and `signer`.
 * Several keys per signer allow rotation (add the new key everywhere, then switch the signer).
 */
export function parseVerifyKeys(text: string): Map<string, VerifyKey> {
  const set = parseJson(text, 'the verify keys') as { keys?: unknown } | null;
  if (!set || !Array.isArray(set.keys) || set.keys.length === 0 || set.keys.length > 50)
    throw new IdentityKeyError('the verify keys must be a JWK Set {"keys":[...]} of 1 to 50 keys');
  const keys = new Map<string, VerifyKey>();
  for (const [i, raw] of (set.keys as unknown[]).entries()) {
    if (!raw || typeof raw !== 'object') throw new IdentityKeyError(`verify key ${i} must be a JWK object`);
    const jwk = raw as Jwk;
    const { kid, signer } = meta(jwk, `verify key ${i}`);
    if ('d' in jwk) throw new IdentityKeyError(`verify key ${kid} is private; give only public keys`);
    if (keys.has(kid)) throw new IdentityKeyError(`verify key ${kid} appears twice`);
    try {
      keys.set(kid, { signer, key: createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x } as never, format: 'jwk' }) });
    } catch {
      throw new IdentityKeyError(`verify key ${kid} is not a valid Ed25519 key`);
    }
  }
  return keys;
}

const AUDIENCE = /^[a-z][a-z0-9-]{0,40}$/;
/** 256 bits at least, as RFC 7518 asks of HS256 keys; at most 512. */
const HMAC_KEY_BYTES = { min: 32, max: 64 };

/**
 * `IDENTITY_HMAC_KEYS` (ADR 0025): a JWK Set of secret keys (`kty` oct, `alg` HS256), each with
 * `kid`, `signer` "gateway" and `aud`, the one service it signs for. The gateway holds one
 * per service (several during a rotation: it signs with the last of each service); a
 * service holds only its own.
 */
export function parseHmacKeys(text: string): HmacKey[] {
  const set = parseJson(text, 'the HMAC keys') as { keys?: unknown } | null;
  if (!set || !Array.isArray(set.keys) || set.keys.length === 0 || set.keys.length > 50)
    throw new IdentityKeyError('the HMAC keys must be a JWK Set {"keys":[...]} of 1 to 50 keys');
  const kids = new Set<string>();
  return (set.keys as unknown[]).map((raw, i) => {
    if (!raw || typeof raw !== 'object') throw new IdentityKeyError(`HMAC key ${i} must be a JWK object`);
    const jwk = raw as Jwk;
    if (jwk.kty !== 'oct' || jwk.alg !== 'HS256') throw new IdentityKeyError(`HMAC key ${i} must be a secret JWK (kty oct, alg HS256)`);
    if (typeof jwk.kid !== 'string' || !KID.test(jwk.kid))
      throw new IdentityKeyError(`HMAC key ${i} needs a kid ([A-Za-z0-9._:-], at most 64)`);
    if (jwk.signer !== 'gateway') throw new IdentityKeyError(`HMAC key ${jwk.kid} needs the signer "gateway"`);
    if (typeof jwk.aud !== 'string' || !AUDIENCE.test(jwk.aud))
      throw new IdentityKeyError(`HMAC key ${jwk.kid} needs aud: the service it signs for`);
    if (kids.has(jwk.kid)) throw new IdentityKeyError(`HMAC key ${jwk.kid} appears twice`);
    kids.add(jwk.kid);
    const secret = typeof jwk.k === 'string' && /^[A-Za-z0-9_-]+$/.test(jwk.k) ? Buffer.from(jwk.k, 'base64url') : Buffer.alloc(0);
    if (secret.length < HMAC_KEY_BYTES.min || secret.length > HMAC_KEY_BYTES.max)
      throw new IdentityKeyError(
        `HMAC key ${jwk.kid} must hold ${HMAC_KEY_BYTES.min} to ${HMAC_KEY_BYTES.max} random bytes (k, base64url)`,
      );
    return { kid: jwk.kid, signer: 'gateway', audience: jwk.aud, key: createSecretKey(secret) };
  });
}

/** A fresh secret for the gateway and one service, as a JWK. */
export function generateHmacKey(kid: string, audience: string): Jwk {
  return { kty: 'oct', alg: 'HS256', k: randomBytes(HMAC_KEY_BYTES.min).toString('base64url'), kid, signer: 'gateway', aud: audience };
}

/** A zod refinement: does this text parse as the given key kind? (The message names no value.) */
export function isValidKey(kind: 'signing' | 'gateway' | 'verify' | 'hmac', text: string): boolean {
  try {
    if (kind === 'verify') return parseVerifyKeys(text).size > 0;
    if (kind === 'hmac') return parseHmacKeys(text).length > 0;
    const key = parseSigningKey(text);
    return kind === 'signing' || key.signer === 'gateway';
  } catch {
    return false;
  }
}

/** A fresh Ed25519 key pair as JWKs (private with `d`, public without). */
export function generateIdentityKeyPair(kid: string, signer: Signer): { privateJwk: string; publicJwk: Jwk } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' }) as Jwk;
  return {
    privateJwk: JSON.stringify({ ...jwk, kid, signer }),
    publicJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, signer },
  };
}

/** The services that call another service's internal API, and so hold a signing key of their own. */
export const CALLING_SERVICES = ['communication', 'export-worker', 'intake', 'realtime'] as const;
/** The services the gateway forwards user requests to, each with a secret of its own (ADR 0025). */
export const GATEWAY_UPSTREAMS = ['communication', 'export-worker', 'intake', 'realtime', 'routing-engine'] as const;

/**
 * A complete key set for one development run (`npm start`, tests, benchmarks): the
 * gateway's key, one key per calling service, the public set every service verifies with,
 * and the secret the gateway shares with each service (a JWK per service name).
 */
export interface DevIdentityKeys {
  gateway: string;
  services: Record<string, string>;
  verifyKeys: string;
  hmac?: Record<string, Jwk>;
}

export function generateDevIdentityKeys(suffix = Date.now().toString(36)): DevIdentityKeys {
  const gateway = generateIdentityKeyPair(`gateway-${suffix}`, 'gateway');
  const services: Record<string, string> = {};
  const publics = [gateway.publicJwk];
  for (const name of CALLING_SERVICES) {
    const pair = generateIdentityKeyPair(`${name}-${suffix}`, `service:${name}`);
    services[name] = pair.privateJwk;
    publics.push(pair.publicJwk);
  }
  const hmac = Object.fromEntries(GATEWAY_UPSTREAMS.map((name) => [name, generateHmacKey(`gateway-${name}-${suffix}`, name)]));
  return { gateway: gateway.privateJwk, services, verifyKeys: JSON.stringify({ keys: publics }), hmac };
}

/** The identity variables one app gets from a development key set: private keys only where they belong. */
export function devIdentityEnv(keys: DevIdentityKeys, app: string): Record<string, string> {
  const hmac = keys.hmac ?? {};
  if (app === 'gateway') {
    const all = Object.values(hmac);
    return { IDENTITY_SIGNING_KEY: keys.gateway, ...(all.length ? { IDENTITY_HMAC_KEYS: JSON.stringify({ keys: all }) } : {}) };
  }
  const env: Record<string, string> = { IDENTITY_VERIFY_KEYS: keys.verifyKeys };
  if (keys.services[app]) env.SERVICE_SIGNING_KEY = keys.services[app];
  if (hmac[app]) env.IDENTITY_HMAC_KEYS = JSON.stringify({ keys: [hmac[app]] });
  return env;
}
