import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { RECEIPT_ALGORITHMS, RECEIPT_TYP, ReceiptClaimsSchema } from '@dvd/contracts';
import { DvdNetworkError, DvdReceiptError } from './errors';
import type { ReceiptClaims } from './types';

export interface VerifyReceiptOptions {
  /** The platform's public URL the receipt must name as `iss` (default: any). */
  issuer?: string;
  /** What the receipt must say: the document, its authority, the container's size and sha256. */
  expected?: { documentId?: string; authorityId?: string; size?: number; sha256?: string };
  /** A `fetch` for a `jwksUrl` (default: the global one). */
  fetch?: typeof fetch;
}

export interface VerifiedReceipt {
  claims: ReceiptClaims;
  /** The signing key's `kid` and algorithm (from the JWS header). */
  kid: string;
  alg: string;
}

const MAX_RECEIPT_CHARS = 16 * 1024;

async function loadJwks(source: JSONWebKeySet | string | URL, fetchImpl: typeof fetch): Promise<JSONWebKeySet> {
  if (typeof source !== 'string' && !(source instanceof URL)) return source;
  let res: Response;
  try {
    res = await fetchImpl(String(source), { headers: { accept: 'application/json' } });
  } catch (err) {
    throw new DvdNetworkError(`the receipt keys at ${String(source)} could not be fetched`, { cause: err });
  }
  if (!res.ok) throw new DvdNetworkError(`the receipt keys at ${String(source)} answered ${res.status}`);
  const jwks = (await res.json()) as JSONWebKeySet;
  if (!jwks || !Array.isArray(jwks.keys)) throw new DvdReceiptError('the receipt keys are not a JWK Set');
  return jwks;
}

/**
 * Verifies a signed receipt (a compact JWS, `typ` `dvd-receipt+jwt`, `EdDSA` or `ES256`) with
 * the platform's receipt keys — a JWK Set, or the URL of `/.well-known/jwks.json` — and checks
 * its claims (and what `expected` names). Web Crypto through `jose`: runs in browsers too.
 * Any failure is a DvdReceiptError (DvdNetworkError when the keys cannot be fetched).
 */
export async function verifyReceipt(
  receipt: string,
  jwks: JSONWebKeySet | string | URL,
  o: VerifyReceiptOptions = {},
): Promise<VerifiedReceipt> {
  const jws = receipt.trim();
  if (jws.length === 0 || jws.length > MAX_RECEIPT_CHARS) throw new DvdReceiptError('not a receipt');
  const keys = await loadJwks(jwks, o.fetch ?? ((...args) => globalThis.fetch(...args)));
  let payload: unknown;
  let header: { kid?: string; alg?: string };
  try {
    header = decodeProtectedHeader(jws);
    ({ payload } = await jwtVerify(jws, createLocalJWKSet(keys), {
      typ: RECEIPT_TYP,
      algorithms: [...RECEIPT_ALGORITHMS],
      ...(o.issuer ? { issuer: o.issuer } : {}),
    }));
  } catch (err) {
    throw new DvdReceiptError(`the receipt does not verify: ${(err as Error)?.message ?? 'invalid'}`, { cause: err });
  }
  const parsed = ReceiptClaimsSchema.safeParse(payload);
  if (!parsed.success) throw new DvdReceiptError('the receipt is signed, but its claims are not those of a receipt');
  const claims = parsed.data;
  const e = o.expected ?? {};
  const mismatch = [
    e.documentId !== undefined && e.documentId !== claims.sub ? 'document id' : '',
    e.authorityId !== undefined && e.authorityId !== claims.authorityId ? 'authority' : '',
    e.size !== undefined && e.size !== claims.payload.size ? 'size' : '',
    e.sha256 !== undefined && e.sha256 !== claims.payload.sha256 ? 'sha256' : '',
  ].filter(Boolean);
  if (mismatch.length) throw new DvdReceiptError(`the receipt is valid but names another ${mismatch.join(', ')}`);
  return { claims, kid: header.kid ?? '', alg: header.alg ?? '' };
}
