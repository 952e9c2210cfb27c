import { JWTPayload, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { Role, Scope } from '@dvd/contracts';
import type { GatewayConfig } from '../gateway.config';
import { LastGoodJwks } from './last-good-jwks';

/**
 * The algorithms an issuer may be configured with: asymmetric only — never `none`, never
 * HMAC (a public key must not become a shared secret). Each issuer pins a subset.
 */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** `typ` compared as a media type: case-insensitive, `application/` optional (RFC 7515 §4.1.9). */
export function normaliseTyp(typ: string): string {
  const t = typ.toLowerCase();
  return t.startsWith('application/') ? t.slice('application/'.length) : t;
}

/** Header parameters that point at keys elsewhere; our IdPs never send them, so a token carrying one is refused. */
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'];

export interface IssuerConfig {
  issuer: string;
  jwksUri: string;
  kind: 'citizen' | 'official';
  /** The signature algorithms this issuer uses (RFC 8725 §3.1). */
  algorithms: readonly AsymmetricAlgorithm[];
  /** Accepted `typ` values, normalised (RFC 8725 §3.11). */
  types: readonly string[];
}

export interface JwksSettings {
  cooldownMs: number;
  cacheMaxAgeMs: number;
  maxStaleMs: number;
}

export interface VerifiedCaller {
  userId: string;
  role: Exclude<Role, 'service'>;
  authorityId: string | null;
  /** The token's `exp` (seconds since the epoch): signed on to the services, the event stream ends then. */
  expiresAt: number;
}

export class AuthenticationError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'AuthenticationError';
  }
}

const AUTHORITY_ID = /^[a-z0-9-]{2,50}$/;

/** Verified tokens remembered (the oldest leaves first when full): ~1 KiB each. */
export const VERIFIED_TOKEN_CACHE_ENTRIES = 10_000;

interface VerifiedToken {
  caller: VerifiedCaller;
  /** `exp`, seconds since the epoch: checked again on every use. */
  exp: number;
  jwks: LastGoodJwks;
  /** The issuer's key set the signature was checked against (`LastGoodJwks.freshGeneration`). */
  generation: number;
}

/**
 * Verifies bearer tokens of the two issuers against their JWKS (RFC 8725 throughout: each
 * issuer's algorithms and `typ` pinned, issuer/audience/expiry required, key-pointing
 * headers refused). Keys are cached; an unknown `kid` triggers a refetch at most once per
 * cooldown, so a flood of made-up kids cannot hammer the IdP, and while the IdP's key
 * endpoint is down the last good keys serve for a bounded time (LastGoodJwks).
 */
export class JwtVerifier {
  private readonly issuers = new Map<string, IssuerConfig & { jwks: LastGoodJwks }>();
  /**
   * Tokens whose signature and claims were verified, so that a client's next requests with
   * the same token cost a lookup instead of a signature check (an RSA or EC verification,
   * most of the gateway's CPU per request). An entry holds only while the key set it was
   * checked against is fresh and unchanged, and only until the token's `exp` (with the same
   * leeway as the full check): nothing is accepted that a full verification at that moment
   * would refuse, except a token whose key is withdrawn, which is refused once the key set
   * is refetched (at most JWKS_CACHE_MAX_AGE_MS later, as without the cache). Refusals are
   * never remembered.
   */
  private readonly verified = new Map<string, VerifiedToken>();
  /** Signature checks done (cache misses), for tests and diagnostics. */
  fullVerifications = 0;

  constructor(
    issuers: IssuerConfig[],
    private readonly audience: string,
    private readonly clockToleranceS: number,
    jwks: JwksSettings,
    private readonly now: () => number = Date.now,
    private readonly cacheEntries = VERIFIED_TOKEN_CACHE_ENTRIES,
  ) {
    for (const i of issuers) this.issuers.set(i.issuer, { ...i, jwks: new LastGoodJwks(new URL(i.jwksUri), jwks) });
  }

  static fromConfig(config: GatewayConfig): JwtVerifier {
    return new JwtVerifier(
      [
        {
          issuer: config.CITIZEN_ISSUER,
          jwksUri: config.CITIZEN_JWKS_URI,
          kind: 'citizen',
          algorithms: config.CITIZEN_JWT_ALGORITHMS,
          types: config.CITIZEN_JWT_TYPES,
        },
        {
          issuer: config.OFFICIAL_ISSUER,
          jwksUri: config.OFFICIAL_JWKS_URI,
          kind: 'official',
          algorithms: config.OFFICIAL_JWT_ALGORITHMS,
          types: config.OFFICIAL_JWT_TYPES,
        },
      ],
      config.AUTH_AUDIENCE,
      config.AUTH_CLOCK_TOLERANCE_S,
      { cooldownMs: config.JWKS_COOLDOWN_MS, cacheMaxAgeMs: config.JWKS_CACHE_MAX_AGE_MS, maxStaleMs: config.JWKS_MAX_STALE_MS },
    );
  }

  async verify(token: string): Promise<VerifiedCaller> {
    const known = this.verified.get(token);
    if (known) {
      const nowS = Math.floor(this.now() / 1000);
      if (known.exp > nowS - this.clockToleranceS && known.generation === known.jwks.freshGeneration) return known.caller;
      this.verified.delete(token);
    }
    return this.verifyInFull(token);
  }

  private remember(token: string, entry: VerifiedToken) {
    if (this.cacheEntries <= 0) return;
    if (this.verified.size >= this.cacheEntries) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, entry);
  }

  private async verifyInFull(token: string): Promise<VerifiedCaller> {
    this.fullVerifications++;
    let unverifiedIssuer: string | undefined;
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
      if (FORBIDDEN_HEADERS.some((h) => h in header)) throw new AuthenticationError('token header references external keys');
      unverifiedIssuer = decodeJwt(token).iss;
    } catch (err) {
      if (err instanceof AuthenticationError) throw err;
      throw new AuthenticationError('malformed token');
    }
    const issuer = unverifiedIssuer ? this.issuers.get(unverifiedIssuer) : undefined;
    if (!issuer || !unverifiedIssuer) throw new AuthenticationError('unknown issuer');
    // judged before any key is looked up: a token of the wrong kind or algorithm costs no JWKS fetch
    if (typeof header.alg !== 'string' || !(issuer.algorithms as readonly string[]).includes(header.alg))
      throw new AuthenticationError('algorithm not allowed');
    if (typeof header.typ !== 'string' || !issuer.types.includes(normaliseTyp(header.typ)))
      throw new AuthenticationError('token type not allowed');

    let payload: JWTPayload;
    const generation = issuer.jwks.freshGeneration;
    try {
      ({ payload } = await jwtVerify(token, issuer.jwks.getKey, {
        issuer: unverifiedIssuer,
        audience: this.audience,
        algorithms: [...issuer.algorithms],
        clockTolerance: this.clockToleranceS,
        requiredClaims: ['iss', 'aud', 'exp', 'sub'],
        currentDate: new Date(this.now()),
      }));
    } catch (err) {
      throw new AuthenticationError(reasonOf(err));
    }
    const caller = callerOf(issuer.kind, payload);
    // remembered only when the same fresh key set was in force before and after the check
    if (generation !== undefined && generation === issuer.jwks.freshGeneration) {
      this.remember(token, { caller, exp: payload.exp!, jwks: issuer.jwks, generation });
    }
    return caller;
  }
}

function callerOf(kind: IssuerConfig['kind'], payload: JWTPayload): VerifiedCaller {
  const sub = payload.sub;
  if (!sub || sub.length > 200) throw new AuthenticationError('invalid subject');
  // `exp` is required by the check; jose made sure it is a number in the future
  const expiresAt = Math.floor(payload.exp!);
  if (kind === 'citizen') return { userId: sub, role: 'citizen', authorityId: null, expiresAt };

  const authorityId = payload['authority_id'];
  if (typeof authorityId !== 'string' || !AUTHORITY_ID.test(authorityId)) throw new AuthenticationError('missing authority_id');
  return { userId: sub, role: roleFromScope(payload['scope']), authorityId, expiresAt };
}

/** The strongest dvd scope wins; no dvd scope means a plain official (docs/api-conventions.md: dvd:official is the default). */
export function roleFromScope(scope: unknown): 'official' | 'admin' | 'platform-admin' {
  const scopes = typeof scope === 'string' ? scope.split(' ') : Array.isArray(scope) ? scope.map(String) : [];
  if (scopes.includes(Scope.platformAdmin)) return 'platform-admin';
  if (scopes.includes(Scope.admin)) return 'admin';
  return 'official';
}

function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `claim check failed: ${err.claim}`;
  if (err instanceof errors.JWKSNoMatchingKey) return 'no matching key';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature invalid';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JOSEError) return (err as errors.JOSEError).code.toLowerCase();
  return 'verification failed';
}
