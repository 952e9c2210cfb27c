import { z } from 'zod';
import { isValidKey } from '../auth-context/identity-keys';
import { DEFAULT_RETRY_DELAYS_MS, parseRetryDelays } from '../messaging/retry-schedule';

/** Thrown when the environment does not make a valid configuration. Lists every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: Array<{ variable: string; message: string }>) {
    super('Invalid configuration: ' + problems.map((p) => `${p.variable} ${p.message}`).join('; '));
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * Builds a typed configuration from the environment. Every problem is reported at once,
 * naming the variable but never echoing its value (it may be a secret).
 */
export function loadConfig<S extends z.ZodTypeAny>(schema: S, env: Env = process.env): z.output<S> {
  // Empty strings count as unset, so `FOO=` falls back to the default like a missing FOO.
  const cleaned: Env = {};
  for (const [k, v] of Object.entries(env)) cleaned[k] = v === '' ? undefined : v;
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data as z.output<S>;
  const problems = result.error.issues.map((issue) => ({
    variable: String(issue.path[0] ?? '(environment)'),
    message: describeIssue(issue),
  }));
  throw new ConfigError(problems);
}

function describeIssue(issue: z.ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return 'is required';
  return `is invalid (${issue.message.toLowerCase()})`;
}

// ---- reusable variable definitions -------------------------------------------------

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const url = (protocols: string[], fallback?: string) => {
  const base = z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    `must be a ${protocols.join(' or ')} URL`,
  );
  return fallback === undefined ? base : base.default(fallback);
};

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** Variables every service reads. */
export const commonEnv = {
  LOG_LEVEL: logLevel,
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** How long a stopping service (SIGTERM) lets in-flight requests finish before it closes their connections. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  /**
   * Longest time to receive one whole request (Node's server.requestTimeout; 0: none). The
   * default, 20 minutes, lets a 100 MiB upload arrive at 1 Mbit/s (about 14 minutes);
   * Node's own default (5 minutes) would cut it off. Edge proxies need at least as much.
   */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(1_200_000),
  /**
   * How long an idle kept-alive connection stays open (Node's server.keepAliveTimeout, 5 s by
   * default). Longer than the idle timeout of every client and proxy in front — the gateway's
   * pool to the services (30 s), Traefik to the gateway and web-server (60 s, deploy/k8s/edge) —
   * so that a service never closes a connection its client is just reusing: that race answers
   * a burst after a few idle seconds with ECONNRESET/EPIPE, i.e. 503s.
   */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(75_000),
};

/**
 * Node's server timeouts from the platform's settings: a whole request (slow uploads), idle
 * kept-alive connections (longer than any client's pool), and the headers of a request.
 */
export function applyServerTimeouts(
  server: import('node:http').Server,
  c: { HTTP_REQUEST_TIMEOUT_MS: number; HTTP_KEEP_ALIVE_TIMEOUT_MS: number },
): void {
  server.requestTimeout = c.HTTP_REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = c.HTTP_KEEP_ALIVE_TIMEOUT_MS;
  // the headers of a request within a minute; Node wants no more than the whole request's limit
  server.headersTimeout = c.HTTP_REQUEST_TIMEOUT_MS === 0 ? 60_000 : Math.min(60_000, c.HTTP_REQUEST_TIMEOUT_MS);
}

export const databaseEnv = {
  DATABASE_URL: url(['postgres', 'postgresql'], 'postgres://postgres@127.0.0.1:5432/dvd'),
};

export const amqpEnv = {
  AMQP_URL: url(['amqp', 'amqps'], 'amqp://guest:guest@127.0.0.1:5672'),
  /** Handler attempts of one event (first delivery and retries) before it is dead-lettered. */
  EVENT_MAX_DELIVERIES: positiveInt(5),
  /** Delays before retry 1, 2, … in ms (the last repeats); the default retries for 7.5 minutes. */
  EVENT_RETRY_DELAYS_MS: z
    .string()
    .default(DEFAULT_RETRY_DELAYS_MS.join(','))
    .transform((value, ctx) => {
      const delays = parseRetryDelays(value);
      if (delays) return delays;
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be 1 to 20 comma-separated delays in ms, each 1 to 86400000' });
      return z.NEVER;
    }),
};

export const redisEnv = {
  REDIS_URL: url(['redis', 'rediss'], 'redis://127.0.0.1:6379'),
  /** Prefix of every key this deployment writes (lets environments or test runs share a Redis). */
  REDIS_KEY_PREFIX: z.string().max(100).default('dvd:'),
};

/**
 * The object store. Credentials: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY together (local
 * and self-hosted stores), or neither, and then the AWS SDK's default credential chain
 * (IRSA / EKS Pod Identity web identity tokens, container and instance roles, AWS_* variables).
 */
export const s3Env = {
  S3_ENDPOINT: url(['http', 'https']).optional(),
  S3_BUCKET: z.string().min(3).max(63).default('dvd-documents'),
  S3_ACCESS_KEY_ID: z.string().max(256).optional(),
  S3_SECRET_ACCESS_KEY: z.string().max(256).optional(),
  S3_REGION: z.string().default('eu-central-1'),
};

// ---- identity keys (ADR 0014) --------------------------------------------------------

const hmacKeys = z
  .string()
  .refine(
    (v) => isValidKey('hmac', v),
    'must be a JWK Set of secret keys (kty oct, alg HS256, 32 to 64 bytes) with kid, signer "gateway" and aud',
  )
  .optional();

/**
 * The gateway only: the private key that signs every user identity, and (ADR 0025) the
 * secret it shares with each service, which replaces the Ed25519 signature towards that service.
 */
export const identitySigningEnv = {
  IDENTITY_SIGNING_KEY: z.string().refine((v) => isValidKey('gateway', v), 'must be a private Ed25519 JWK with kid and signer "gateway"'),
  IDENTITY_HMAC_KEYS: hmacKeys,
};

/**
 * Every service: the public keys it verifies identities with (gateway and calling
 * services, several per signer during a rotation), and Redis, where it remembers the
 * signature ids it has seen so that no replica accepts one twice.
 */
export const identityVerifyEnv = {
  IDENTITY_VERIFY_KEYS: z.string().refine((v) => isValidKey('verify', v), 'must be a JWK Set of public Ed25519 keys with kid and signer'),
  /** The secrets this service shares with the gateway (ADR 0025): keys for this service only. */
  IDENTITY_HMAC_KEYS: hmacKeys,
  ...redisEnv,
};

/** Services that call another service's internal API: their own private key (signer "service:<name>"). */
export const serviceSigningEnv = {
  SERVICE_SIGNING_KEY: z.string().refine((v) => isValidKey('signing', v), 'must be a private Ed25519 JWK with kid and signer'),
};

/**
 * What `main.js migrate` needs: the database (DATABASE_URL, as the schema's owner) and,
 * where each service has a role of its own, that service's connection URL: its user becomes
 * a login role with that password, limited to the service's schema (deploy/README.md).
 */
export const migrationConfigSchema = z.object({
  LOG_LEVEL: logLevel,
  ...databaseEnv,
  SERVICE_DATABASE_URL: url(['postgres', 'postgresql']).optional(),
});
