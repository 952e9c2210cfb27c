import './tracing';
import 'reflect-metadata';
import { createLogger, createServiceApp, loadConfig, migrateOnly, migrationConfigSchema, serviceMain } from '@dvd/platform';
import { CommunicationModule, databaseOptions } from './app.module';
import { CommunicationConfig, communicationConfigSchema } from './communication.config';

export function createCommunicationApp(config: CommunicationConfig) {
  // A message's contentBlob is at most 256 KiB; the route answers 413 above that itself.
  return createServiceApp(CommunicationModule.register(config), { jsonLimit: '1mb' });
}

/** `main.js migrate`: needs only DATABASE_URL (and LOG_LEVEL; SERVICE_DATABASE_URL for its own role), not the service's whole configuration. */
export async function migrateCommunication() {
  const config = loadConfig(migrationConfigSchema);
  await migrateOnly(databaseOptions(config), createLogger('communication', config.LOG_LEVEL), {
    serviceRoleUrl: config.SERVICE_DATABASE_URL,
  });
}

if (require.main === module) {
  serviceMain({
    name: 'communication',
    loadConfig: () => loadConfig(communicationConfigSchema),
    create: createCommunicationApp,
    migrate: migrateCommunication,
    port: (c) => c.COMMUNICATION_PORT,
    host: (c) => c.BIND_HOST,
  });
}
