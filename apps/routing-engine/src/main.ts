import './tracing';
import 'reflect-metadata';
import { createLogger, createServiceApp, loadConfig, migrateOnly, migrationConfigSchema, serviceMain } from '@dvd/platform';
import { RoutingEngineModule, databaseOptions } from './app.module';
import { RoutingEngineConfig, routingEngineConfigSchema } from './routing-engine.config';

export function createRoutingEngineApp(config: RoutingEngineConfig) {
  return createServiceApp(RoutingEngineModule.register(config), { jsonLimit: '64kb' });
}

/** `main.js migrate`: needs only DATABASE_URL (and LOG_LEVEL; SERVICE_DATABASE_URL for its own role), not the service's whole configuration. */
export async function migrateRoutingEngine() {
  const config = loadConfig(migrationConfigSchema);
  await migrateOnly(databaseOptions(config), createLogger('routing-engine', config.LOG_LEVEL), {
    serviceRoleUrl: config.SERVICE_DATABASE_URL,
  });
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
