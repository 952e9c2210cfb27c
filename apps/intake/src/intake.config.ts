import { z } from 'zod';
import { amqpEnv, commonEnv, databaseEnv, internalAuthEnv, port, positiveInt, s3Env } from '@dvd/platform';

export const intakeConfigSchema = z.object({
  ...commonEnv,
  ...internalAuthEnv,
  ...databaseEnv,
  ...amqpEnv,
  ...s3Env,
  INTAKE_PORT: port(3001),
  BIND_HOST: z.string().default('0.0.0.0'),
  MAX_UPLOAD_BYTES: positiveInt(100 * 1024 * 1024),
  REAPER_INTERVAL_MS: positiveInt(60 * 60 * 1000),
});
export type IntakeConfig = z.output<typeof intakeConfigSchema>;
