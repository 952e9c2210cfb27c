import { tmpdir } from 'node:os';
import { z } from 'zod';
import {
  allowPrivateTargetsEnv,
  amqpEnv,
  commonEnv,
  databaseEnv,
  identityVerifyEnv,
  port,
  positiveInt,
  s3Env,
  secretsEncryptionEnv,
  serviceSigningEnv,
  url,
} from '@dvd/platform';

export const exportWorkerConfigSchema = z.object({
  ...commonEnv,
  ...databaseEnv,
  ...amqpEnv,
  ...s3Env,
  EXPORT_WORKER_PORT: port(3004),
  BIND_HOST: z.string().default('0.0.0.0'),
  EXPORT_MAX_ATTEMPTS: positiveInt(5),
  EXPORT_RETRY_BASE_MS: positiveInt(1000),
  /** How long one delivery may take before it counts as a timeout (retried). */
  EXPORT_DELIVERY_TIMEOUT_MS: positiveInt(30_000),
  /** A job is leased to one worker this long; a worker that dies leaves it to be picked up again after it. */
  EXPORT_LEASE_MS: positiveInt(5 * 60_000),
  /** How often idle workers look for due jobs (retries, expired leases). */
  EXPORT_POLL_MS: positiveInt(1_000),
  INTAKE_URL: url(['http', 'https'], 'http://127.0.0.1:3001'),
  COMMUNICATION_URL: url(['http', 'https'], 'http://127.0.0.1:3003'),
  ROUTING_ENGINE_URL: url(['http', 'https'], 'http://127.0.0.1:3002'),
  /** Packages are built here, one directory per attempt, removed when the attempt ends. */
  EXPORT_TMP_DIR: z.string().min(1).default(tmpdir()),
  /** A completed export of a document is repeated only this long after it completed (0: at once); before, POST /exports answers with it. */
  EXPORT_REPEAT_AFTER_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(60 * 60_000),
  /** Opens the authorities' ingest secrets (sealed by routing-engine); the same keyring there. */
  ...secretsEncryptionEnv,
  /** Development only: deliver to plain http and local addresses. */
  ...allowPrivateTargetsEnv,
  ...identityVerifyEnv,
  ...serviceSigningEnv,
});
export type ExportWorkerConfig = z.output<typeof exportWorkerConfigSchema>;
