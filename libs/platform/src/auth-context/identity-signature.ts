import { KeyObject, createHash, createHmac, randomBytes, sign, timingSafeEqual, verify } from 'node:crypto';
import { Identity, IdentityHeader, ROLES, Role } from '@dvd/contracts';
import { SigningKey, VerifyKey } from './identity-keys';

/**
 * How far a signature's time may be from the verifier's clock (either way): covers clock
 * skew and queueing, not more. Headers reach the service before a streamed body does.
 */
export const IDENTITY_MAX_AGE_SECONDS = 60;

/** The first field of every signed string; a new format gets a new version, never a reinterpretation. */
export const IDENTITY_SIGNATURE_VERSION = 'dvd-identity/2';
/**
 * The format with the user's token expiry as a twelfth field (ADR 0021): what the gateway
 * signs for users. Services calling services sign without an expiry (version 2). Removing
 * the expiry header cannot turn a version 3 signature into a valid version 2 one: the
 * version is part of what is signed.
 */
export const IDENTITY_SIGNATURE_VERSION_WITH_EXPIRY = 'dvd-identity/3';

/**
 * Bodies the signer hashes: every body but a streamed upload. The largest JSON body any
 * service accepts (intake's JSON upload variant) is 10 MiB.
 */
export const MAX_DIGESTED_BODY_BYTES = 10 * 1024 * 1024;

/** `sha-256=:<base64>:` (RFC 9530 notation) of a body the signer holds in full. */
export function bodyDigest(body: Buffer | string): string {
  return `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
}

export const EMPTY_BODY_DIGEST = bodyDigest('');

/** Streamed uploads: only multipart/form-data is sent without a digest. */
export function isStreamedContentType(contentType: string | undefined): boolean {
  return !!contentType && /^multipart\/form-data\s*;/i.test(contentType);
}

/**
 * What the signature says about a streamed body: its declared length (or `chunked`) and
 * its exact content type, boundary included. The payload inside is a JWE whose own
 * integrity (AES-GCM) and the sha256 returned to the client protect it end to end.
 */
export function streamedBody(contentType: string, length: number | 'chunked'): string {
  return `streamed ${length} ${contentType}`;
}

/** The streamed-body binding as the receiver sees its request, or null when it has none. */
export function streamedBodyOf(headers: Record<string, string | string[] | undefined>): string | null {
  const type = headers['content-type'];
  if (typeof type !== 'string' || !isStreamedContentType(type)) return null;
  const length = headers['content-length'];
  if (typeof length === 'string' && /^\d{1,15}$/.test(length) && headers['transfer-encoding'] === undefined) {
    return streamedBody(type, Number(length));
  }
  if (length === undefined && typeof headers['transfer-encoding'] === 'string' && /(^|,)\s*chunked\s*$/i.test(headers['transfer-encoding']))
    return streamedBody(type, 'chunked');
  return null;
}

export interface SignedFields {
  kid: string;
  method: string;
  /** Path with query, exactly as requested. */
  path: string;
  /** A body digest (`bodyDigest`) or a streamed binding (`streamedBody`). */
  body: string;
  /** Seconds since the epoch. */
  timestamp: string;
  nonce: string;
  identity: Identity;
}

/**
 * The exact bytes signed: a JSON array of strings in a fixed order. JSON makes the split
 * between fields unambiguous (no value can end one field and start the next), whatever
 * the values contain.
 */
export function canonicalIdentity(f: SignedFields): string {
  const withExpiry = f.identity.expiresAt !== undefined;
  return JSON.stringify([
    withExpiry ? IDENTITY_SIGNATURE_VERSION_WITH_EXPIRY : IDENTITY_SIGNATURE_VERSION,
    f.kid,
    f.method.toUpperCase(),
    f.path,
    f.body,
    f.timestamp,
    f.nonce,
    f.identity.userId,
    f.identity.role,
    f.identity.authorityId ?? '',
    f.identity.requestId,
    ...(withExpiry ? [String(f.identity.expiresAt)] : []),
  ]);
}

const NONCE_BYTES = 16;
const NONCES_PER_FILL = 256;
let noncePool = Buffer.alloc(0);
let nonceOffset = 0;

/**
 * 16 random bytes, base64url: taken from a pool filled by the CSPRNG 256 nonces at a time
 * (as Node buffers entropy for randomUUID), not one system call per signed request.
 */
export function newNonce(): string {
  if (nonceOffset >= noncePool.length) {
    noncePool = randomBytes(NONCE_BYTES * NONCES_PER_FILL);
    nonceOffset = 0;
  }
  const nonce = noncePool.toString('base64url', nonceOffset, nonceOffset + NONCE_BYTES);
  nonceOffset += NONCE_BYTES;
  return nonce;
}

/** The signature of the canonical text: HMAC-SHA256 with a shared secret (ADR 0025), else Ed25519. */
function signatureOf(text: string, key: KeyObject): Buffer {
  return key.type === 'secret' ? createHmac('sha256', key).update(text).digest() : sign(null, Buffer.from(text), key);
}

/**
 * The headers the gateway (or a service calling another service) sends downstream. The
 * signature (Ed25519, or HMAC with the receiving service's own secret) binds the identity to the signer's key, method, path with query, body,
 * time and a one-time id: captured headers work for nothing else and only once.
 */
export function signIdentity(
  signing: SigningKey,
  identity: Identity,
  method: string,
  path: string,
  body: string = EMPTY_BODY_DIGEST,
  now = Date.now(),
  nonce = newNonce(),
): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  const text = canonicalIdentity({ kid: signing.kid, method, path, body, timestamp, nonce, identity });
  return {
    [IdentityHeader.userId]: identity.userId,
    [IdentityHeader.role]: identity.role,
    [IdentityHeader.authorityId]: identity.authorityId ?? '',
    [IdentityHeader.requestId]: identity.requestId,
    [IdentityHeader.keyId]: signing.kid,
    [IdentityHeader.timestamp]: timestamp,
    [IdentityHeader.nonce]: nonce,
    [IdentityHeader.body]: body,
    ...(identity.expiresAt !== undefined ? { [IdentityHeader.expires]: String(identity.expiresAt) } : {}),
    [IdentityHeader.signature]: signatureOf(text, signing.key).toString('base64url'),
  };
}

type Headers = Record<string, string | string[] | undefined>;
const one = (h: Headers, name: string) => {
  const v = h[name];
  return Array.isArray(v) ? undefined : v;
};

export interface VerifiedIdentity {
  identity: Identity;
  kid: string;
  signer: VerifyKey['signer'];
  nonce: string;
  /** The signed body binding, for the receiver to check against the body it gets. */
  body: string;
}

export type IdentityRefusal = 'missing' | 'malformed' | 'unknown-key' | 'expired' | 'bad-signature';

const NONCE = /^[A-Za-z0-9_-]{22}$/;
const SIGNATURE = /^(?:[A-Za-z0-9_-]{43}|[A-Za-z0-9_-]{86})$/; // HMAC-SHA256 32 bytes, Ed25519 64 bytes, base64url
const DIGEST = /^sha-256=:[A-Za-z0-9+/]{43}=:$/;

/** Checks the signature alone (key, time, format); who may sign what is the verifier's policy. */
export function verifyIdentity(
  keys: ReadonlyMap<string, VerifyKey>,
  headers: Headers,
  method: string,
  path: string,
  now = Date.now(),
): VerifiedIdentity | IdentityRefusal {
  const userId = one(headers, IdentityHeader.userId);
  const role = one(headers, IdentityHeader.role);
  const authorityId = one(headers, IdentityHeader.authorityId) ?? '';
  const requestId = one(headers, IdentityHeader.requestId);
  const kid = one(headers, IdentityHeader.keyId);
  const timestamp = one(headers, IdentityHeader.timestamp);
  const nonce = one(headers, IdentityHeader.nonce);
  const body = one(headers, IdentityHeader.body);
  const signature = one(headers, IdentityHeader.signature);
  const expires = one(headers, IdentityHeader.expires);
  if (!userId || !role || !requestId || !kid || !timestamp || !nonce || !body || !signature) return 'missing';
  if (expires !== undefined && !/^\d{1,12}$/.test(expires)) return 'malformed';
  if (!(ROLES as readonly string[]).includes(role) || !NONCE.test(nonce) || !SIGNATURE.test(signature)) return 'malformed';
  if (!DIGEST.test(body) && !body.startsWith('streamed ')) return 'malformed';
  if (!/^\d{1,12}$/.test(timestamp)) return 'malformed';
  const key = keys.get(kid);
  if (!key) return 'unknown-key';
  if (signature.length !== (key.key.type === 'secret' ? 43 : 86)) return 'malformed';
  if (Math.abs(now / 1000 - Number(timestamp)) > IDENTITY_MAX_AGE_SECONDS) return 'expired';
  const identity: Identity = {
    userId,
    role: role as Role,
    authorityId: authorityId || null,
    requestId,
    ...(expires !== undefined ? { expiresAt: Number(expires) } : {}),
  };
  const text = canonicalIdentity({ kid, method, path, body, timestamp, nonce, identity });
  const given = Buffer.from(signature, 'base64url');
  if (key.key.type === 'secret') {
    const expected = createHmac('sha256', key.key).update(text).digest();
    if (!timingSafeEqual(given, expected)) return 'bad-signature';
  } else if (!verify(null, Buffer.from(text), key.key, given)) return 'bad-signature';
  return { identity, kid, signer: key.signer, nonce, body };
}
