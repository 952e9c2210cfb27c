import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  ReceiptKeyError,
  ReceiptKeyring,
  amqpEnv,
  commonEnv,
  identityVerifyEnv,
  databaseEnv,
  loadConfig,
  parseReceiptKeys,
  port,
  positiveInt,
  s3Env,
  serviceSigningEnv,
  url,
} from '@dvd/platform';

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
  /** communication's internal API: does an official hold a thread of a document (accept, reject, forward)? */
  COMMUNICATION_URL: url(['http', 'https'], 'http://127.0.0.1:3003'),
  /** The platform's public URL (the gateway's), the `iss` of every signed receipt. */
  PUBLIC_BASE_URL: url(['http', 'https']),
  /**
   * Receipt signing keys (ADR 0019), one of the two: a JSON array of private JWKs (Ed25519 or
   * P-256), current first, or the path of a file (a mounted secret) holding it.
   */
  RECEIPT_SIGNING_KEYS: z.string().optional(),
  RECEIPT_SIGNING_KEY_FILE: z.string().optional(),
  ...identityVerifyEnv,
  /** intake calls routing-engine's key directory and communication as itself (ADR 0014). */
  ...serviceSigningEnv,
});
export type IntakeConfig = z.output<typeof intakeConfigSchema>;

/** The receipt keys the configuration names (the file is read now); ReceiptKeyError names the variable, never a value. */
export function receiptKeyringFrom(config: Pick<IntakeConfig, 'RECEIPT_SIGNING_KEYS' | 'RECEIPT_SIGNING_KEY_FILE'>): ReceiptKeyring {
  const { RECEIPT_SIGNING_KEYS: inline, RECEIPT_SIGNING_KEY_FILE: file } = config;
  if (inline && file) throw new ReceiptKeyError('set RECEIPT_SIGNING_KEYS or RECEIPT_SIGNING_KEY_FILE, not both');
  if (!inline && !file) throw new ReceiptKeyError('RECEIPT_SIGNING_KEYS or RECEIPT_SIGNING_KEY_FILE is required');
  if (inline) {
    try {
      return parseReceiptKeys(inline);
    } catch (err) {
      throw new ReceiptKeyError(`RECEIPT_SIGNING_KEYS: ${(err as Error).message}`);
    }
  }
  let text: string;
  try {
    text = readFileSync(file!, 'utf8');
  } catch {
    throw new ReceiptKeyError('RECEIPT_SIGNING_KEY_FILE cannot be read');
  }
  try {
    return parseReceiptKeys(text);
  } catch (err) {
    throw new ReceiptKeyError(`RECEIPT_SIGNING_KEY_FILE: ${(err as Error).message}`);
  }
}

/** intake's configuration, with the receipt keys checked at load (a bad key stops the service with one line). */
export function loadIntakeConfig(env?: Record<string, string | undefined>): IntakeConfig {
  return loadConfig(
    intakeConfigSchema.superRefine((c, ctx) => {
      try {
        receiptKeyringFrom(c);
      } catch (err) {
        const variable = c.RECEIPT_SIGNING_KEY_FILE && !c.RECEIPT_SIGNING_KEYS ? 'RECEIPT_SIGNING_KEY_FILE' : 'RECEIPT_SIGNING_KEYS';
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: [variable], message: (err as Error).message });
      }
    }),
    env,
  );
}
