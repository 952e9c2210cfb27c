import { z } from 'zod';
import { amqpEnv, commonEnv, databaseEnv, internalAuthEnv, port, redisEnv } from '@dvd/platform';

export const routingEngineConfigSchema = z.object({
  ...commonEnv,
  ...internalAuthEnv,
  ...databaseEnv,
  ...amqpEnv,
  ...redisEnv,
  ROUTING_ENGINE_PORT: port(3002),
  BIND_HOST: z.string().default('0.0.0.0'),
});
export type RoutingEngineConfig = z.output<typeof routingEngineConfigSchema>;
