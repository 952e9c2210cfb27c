import { z } from 'zod';
import { commonEnv, identitySigningEnv, loadConfig, port, positiveInt, redisEnv, url } from '@dvd/platform';
import { ASYMMETRIC_ALGORITHMS, normaliseTyp } from './auth/jwt-verifier';

/** A comma-separated list of signature algorithms, each asymmetric (RFC 8725 §3.1, §3.2). */
const algorithms = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) =>
      v
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(ASYMMETRIC_ALGORITHMS)).min(1));

/**
 * A comma-separated list of accepted `typ` header values (RFC 8725 §3.11), compared as media
 * types: case-insensitive, `application/` optional (RFC 7515 §4.1.9).
 */
const tokenTypes = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) =>
      v
        .split(',')
        .map((t) => normaliseTyp(t.trim()))
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[a-z0-9][a-z0-9.+-]{0,63}$/, 'must be media type names like JWT or at+jwt')).min(1));

export const gatewayConfigSchema = z.object({
  ...commonEnv,
  ...redisEnv,
  GATEWAY_PORT: port(3000),
  BIND_HOST: z.string().default('0.0.0.0'),
  INTAKE_URL: url(['http', 'https'], 'http://127.0.0.1:3001'),
  ROUTING_ENGINE_URL: url(['http', 'https'], 'http://127.0.0.1:3002'),
  COMMUNICATION_URL: url(['http', 'https'], 'http://127.0.0.1:3003'),
  EXPORT_WORKER_URL: url(['http', 'https'], 'http://127.0.0.1:3004'),
  REALTIME_URL: url(['http', 'https'], 'http://127.0.0.1:3005'),
  /**
   * realtime's stream port (ADR 0021): the event streams go there over HTTP/2, many per
   * connection. `http:` is cleartext HTTP/2 (prior knowledge); `https:` needs a TLS endpoint
   * that speaks h2 (a mesh sidecar), as realtime serves cleartext only.
   */
  REALTIME_STREAM_URL: url(['http', 'https'], 'http://127.0.0.1:3015'),
  /** Event streams per connection to realtime; beyond it another connection is opened. */
  REALTIME_STREAMS_PER_CONNECTION: z.coerce.number().int().min(1).max(1_000).default(250),
  CITIZEN_ISSUER: z.string().min(1),
  CITIZEN_JWKS_URI: url(['http', 'https']),
  OFFICIAL_ISSUER: z.string().min(1),
  OFFICIAL_JWKS_URI: url(['http', 'https']),
  AUTH_AUDIENCE: z.string().default('dvd-api'),
  /** Clock leeway for exp/nbf/iat, in seconds. */
  AUTH_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(30),
  /** Minimum pause between two JWKS refetches caused by unknown `kid`s. */
  JWKS_COOLDOWN_MS: positiveInt(30_000),
  RATE_LIMIT_CITIZEN_PER_MIN: positiveInt(10),
  RATE_LIMIT_OFFICIAL_PER_MIN: positiveInt(1000),
  /**
   * Event streams opened and stream tickets taken per user per minute, any role (ADR 0021).
   * Streams count here, not against the request limits above: a long-lived stream is one
   * request, and a reconnecting client must not eat a citizen's 10 requests.
   */
  RATE_LIMIT_EVENTS_PER_MIN: positiveInt(30),
  MAX_UPLOAD_BYTES: positiveInt(100 * 1024 * 1024),
  /** Upstream response timeout; large uploads stream for longer, so this is generous. */
  UPSTREAM_TIMEOUT_MS: positiveInt(300_000),
  /** Signature algorithms accepted per issuer; a token signed otherwise is refused before any key lookup. */
  CITIZEN_JWT_ALGORITHMS: algorithms('RS256,PS256,ES256'),
  OFFICIAL_JWT_ALGORITHMS: algorithms('RS256,PS256,ES256'),
  /** `typ` header values accepted per issuer (`JWT`, RFC 9068 `at+jwt`); a token without `typ` is refused. */
  CITIZEN_JWT_TYPES: tokenTypes('JWT,at+jwt'),
  OFFICIAL_JWT_TYPES: tokenTypes('JWT,at+jwt'),
  /** How long fetched JWKS are used before they are fetched again (in the background once known). */
  JWKS_CACHE_MAX_AGE_MS: positiveInt(10 * 60_000),
  /** While the IdP's key endpoint fails, the last good keys serve for this long after their fetch. */
  JWKS_MAX_STALE_MS: positiveInt(24 * 60 * 60_000),
  /** http JWKS URIs are refused with NODE_ENV=production unless this is true (a local compose with the dev IdP). */
  JWKS_ALLOW_HTTP: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  ...identitySigningEnv,
});
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

/**
 * Loads the gateway's configuration and applies the rules that span variables: outside
 * development the keys that decide who is who must come over TLS (RFC 8725 §3.3; a JWKS
 * fetched over http can be replaced on the way).
 */
export function loadGatewayConfig(env?: Record<string, string | undefined>): GatewayConfig {
  return loadConfig(
    gatewayConfigSchema.superRefine((c, ctx) => {
      if (c.NODE_ENV !== 'production' || c.JWKS_ALLOW_HTTP) return;
      for (const variable of ['CITIZEN_JWKS_URI', 'OFFICIAL_JWKS_URI'] as const) {
        if (new URL(c[variable]).protocol !== 'https:')
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: [variable], message: 'must be an https URL with NODE_ENV=production' });
      }
    }),
    env,
  );
}
