import { z } from 'zod';
import {
  allowPrivateTargetsEnv,
  amqpEnv,
  commonEnv,
  databaseEnv,
  identityVerifyEnv,
  port,
  redisEnv,
  secretsEncryptionEnv,
} from '@dvd/platform';

export const routingEngineConfigSchema = z.object({
  ...commonEnv,
  ...databaseEnv,
  ...amqpEnv,
  ...redisEnv,
  ROUTING_ENGINE_PORT: port(3002),
  BIND_HOST: z.string().default('0.0.0.0'),
  ...secretsEncryptionEnv,
  ...allowPrivateTargetsEnv,
  ...identityVerifyEnv,
});
export type RoutingEngineConfig = z.output<typeof routingEngineConfigSchema>;
