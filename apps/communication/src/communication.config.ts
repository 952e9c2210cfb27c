import { z } from 'zod';
import { amqpEnv, commonEnv, identityVerifyEnv, serviceSigningEnv, databaseEnv, port, url } from '@dvd/platform';

export const communicationConfigSchema = z.object({
  ...commonEnv,
  ...databaseEnv,
  ...amqpEnv,
  COMMUNICATION_PORT: port(3003),
  BIND_HOST: z.string().default('0.0.0.0'),
  /** Intake's internal API, asked about documents whose events have not arrived yet. */
  INTAKE_URL: url(['http', 'https'], 'http://127.0.0.1:3001'),
  ...identityVerifyEnv,
  ...serviceSigningEnv,
});
export type CommunicationConfig = z.output<typeof communicationConfigSchema>;
