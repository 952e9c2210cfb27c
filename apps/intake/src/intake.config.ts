import { z } from 'zod';
import { amqpEnv, commonEnv, identityVerifyEnv, databaseEnv, port, positiveInt, s3Env, serviceSigningEnv, url } from '@dvd/platform';

export const intakeConfigSchema = z.object({
  ...commonEnv,
  ...databaseEnv,
  ...amqpEnv,
  ...s3Env,
  INTAKE_PORT: port(3001),
  BIND_HOST: z.string().default('0.0.0.0'),
  MAX_UPLOAD_BYTES: positiveInt(100 * 1024 * 1024),
  REAPER_INTERVAL_MS: positiveInt(60 * 60 * 1000),
  /** How often routed documents past their authority's claimDeadline are looked for and reported overdue (ADR 0020). */
  OVERDUE_SWEEP_INTERVAL_MS: positiveInt(60_000),
  /** An upload holds its Idempotency-Key this long and extends it every third of it while it lives. */
  IDEMPOTENCY_LEASE_MS: positiveInt(30_000),
  /** The authority key directory: every upload asks it which keys are active now (ADR 0010). */
  ROUTING_ENGINE_URL: url(['http', 'https'], 'http://127.0.0.1:3002'),
  ...identityVerifyEnv,
  /** intake calls routing-engine's key directory as itself (ADR 0014). */
  ...serviceSigningEnv,
});
export type IntakeConfig = z.output<typeof intakeConfigSchema>;
