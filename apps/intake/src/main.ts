import './tracing';
import 'reflect-metadata';
import { createLogger, createServiceApp, loadConfig, migrateOnly, migrationConfigSchema, serviceMain } from '@dvd/platform';
import { IntakeModule, databaseOptions } from './app.module';
import { IntakeConfig, loadIntakeConfig } from './intake.config';

export function createIntakeApp(config: IntakeConfig, o: { relayEnabled?: boolean } = {}) {
  // The JSON upload variant: up to 10 MiB of body (docs/api-conventions.md); multipart streams unlimited by this.
  return createServiceApp(IntakeModule.register(config, o), { jsonLimit: '10mb' });
}

/** `main.js migrate`: needs only DATABASE_URL (and LOG_LEVEL; SERVICE_DATABASE_URL for its own role), not the service's whole configuration. */
export async function migrateIntake() {
  const config = loadConfig(migrationConfigSchema);
  await migrateOnly(databaseOptions(config), createLogger('intake', config.LOG_LEVEL), { serviceRoleUrl: config.SERVICE_DATABASE_URL });
}

if (require.main === module) {
  serviceMain({
    name: 'intake',
    loadConfig: () => loadIntakeConfig(),
    create: createIntakeApp,
    migrate: migrateIntake,
    port: (c) => c.INTAKE_PORT,
    host: (c) => c.BIND_HOST,
  });
}
