import { z } from 'zod';
import { commonEnv, internalAuthEnv, port, positiveInt, redisEnv, url } from '@dvd/platform';

export const gatewayConfigSchema = z.object({
  ...commonEnv,
  ...internalAuthEnv,
  ...redisEnv,
  GATEWAY_PORT: port(3000),
  BIND_HOST: z.string().default('0.0.0.0'),
  INTAKE_URL: url(['http', 'https'], 'http://127.0.0.1:3001'),
  ROUTING_ENGINE_URL: url(['http', 'https'], 'http://127.0.0.1:3002'),
  COMMUNICATION_URL: url(['http', 'https'], 'http://127.0.0.1:3003'),
  EXPORT_WORKER_URL: url(['http', 'https'], 'http://127.0.0.1:3004'),
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
  MAX_UPLOAD_BYTES: positiveInt(100 * 1024 * 1024),
  /** Upstream response timeout; large uploads stream for longer, so this is generous. */
  UPSTREAM_TIMEOUT_MS: positiveInt(300_000),
});
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
