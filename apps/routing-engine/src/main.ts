import 'reflect-metadata';
import { createLogger, createServiceApp, loadConfig, migrateOnly, serviceMain } from '@dvd/platform';
import { RoutingEngineModule, databaseOptions } from './app.module';
import { RoutingEngineConfig, routingEngineConfigSchema } from './routing-engine.config';

export function createRoutingEngineApp(config: RoutingEngineConfig) {
  return createServiceApp(RoutingEngineModule.register(config), { jsonLimit: '64kb', internalAuthSecret: config.INTERNAL_AUTH_SECRET });
}

export async function migrateRoutingEngine(config: RoutingEngineConfig) {
  await migrateOnly(databaseOptions(config), createLogger('routing-engine', config.LOG_LEVEL));
}

if (require.main === module) {
  serviceMain({
    name: 'routing-engine',
    loadConfig: () => loadConfig(routingEngineConfigSchema),
    create: createRoutingEngineApp,
    migrate: migrateRoutingEngine,
    port: (c) => c.ROUTING_ENGINE_PORT,
    host: (c) => c.BIND_HOST,
  });
}
