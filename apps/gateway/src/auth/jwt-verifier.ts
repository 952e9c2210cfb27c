import { JWTPayload, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { Role, Scope } from '@dvd/contracts';

/** Asymmetric algorithms only: never `none`, never HMAC (a public key must not become a shared secret). */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Header parameters that point at keys elsewhere; our IdPs never send them, so a token carrying one is refused. */
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'];

export interface IssuerConfig {
  issuer: string;
  jwksUri: string;
  kind: 'citizen' | 'official';
}

export interface VerifiedCaller {
  userId: string;
  role: Exclude<Role, 'service'>;
  authorityId: string | null;
}

export class AuthenticationError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'AuthenticationError';
  }
}

const AUTHORITY_ID = /^[a-z0-9-]{2,50}$/;

/**
 * Verifies bearer tokens of the two issuers against their JWKS. Keys are cached; an
 * unknown `kid` triggers a refetch at most once per cooldown, so a flood of made-up kids
 * cannot hammer the IdP (jose's remote JWKS cooldown).
 */
export class JwtVerifier {
  private readonly issuers = new Map<string, { kind: IssuerConfig['kind']; jwks: ReturnType<typeof createRemoteJWKSet> }>();

  constructor(
    issuers: IssuerConfig[],
    private readonly audience: string,
    private readonly clockToleranceS: number,
    cooldownMs: number,
  ) {
    for (const i of issuers) {
      this.issuers.set(i.issuer, {
        kind: i.kind,
        jwks: createRemoteJWKSet(new URL(i.jwksUri), { cooldownDuration: cooldownMs, cacheMaxAge: 10 * 60_000, timeoutDuration: 5_000 }),
      });
    }
  }

  async verify(token: string): Promise<VerifiedCaller> {
    let unverifiedIssuer: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      if (FORBIDDEN_HEADERS.some((h) => h in header)) throw new AuthenticationError('token header references external keys');
      if (typeof header.alg !== 'string' || !ALLOWED_ALGORITHMS.includes(header.alg))
        throw new AuthenticationError('algorithm not allowed');
      unverifiedIssuer = decodeJwt(token).iss;
    } catch (err) {
      if (err instanceof AuthenticationError) throw err;
      throw new AuthenticationError('malformed token');
    }
    const issuer = unverifiedIssuer ? this.issuers.get(unverifiedIssuer) : undefined;
    if (!issuer || !unverifiedIssuer) throw new AuthenticationError('unknown issuer');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, issuer.jwks, {
        issuer: unverifiedIssuer,
        audience: this.audience,
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: this.clockToleranceS,
        requiredClaims: ['iss', 'aud', 'exp', 'sub'],
      }));
    } catch (err) {
      throw new AuthenticationError(reasonOf(err));
    }
    const sub = payload.sub;
    if (!sub || sub.length > 200) throw new AuthenticationError('invalid subject');
    if (issuer.kind === 'citizen') return { userId: sub, role: 'citizen', authorityId: null };

    const authorityId = payload['authority_id'];
    if (typeof authorityId !== 'string' || !AUTHORITY_ID.test(authorityId)) throw new AuthenticationError('missing authority_id');
    return { userId: sub, role: roleFromScope(payload['scope']), authorityId };
  }
}

/** The strongest dvd scope wins; no dvd scope means a plain official (API.md: dvd:official is the default). */
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
