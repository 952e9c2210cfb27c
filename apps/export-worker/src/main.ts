import './tracing';
import 'reflect-metadata';
import { createLogger, createServiceApp, loadConfig, migrateOnly, migrationConfigSchema, serviceMain } from '@dvd/platform';
import { ExportWorkerModule, databaseOptions } from './app.module';
import { ExportWorkerConfig, exportWorkerConfigSchema } from './export-worker.config';

export function createExportWorkerApp(config: ExportWorkerConfig) {
  return createServiceApp(ExportWorkerModule.register(config), { jsonLimit: '16kb' });
}

/** `main.js migrate`: needs only DATABASE_URL (and LOG_LEVEL; SERVICE_DATABASE_URL for its own role), not the service's whole configuration. */
export async function migrateExportWorker() {
  const config = loadConfig(migrationConfigSchema);
  await migrateOnly(databaseOptions(config), createLogger('export-worker', config.LOG_LEVEL), {
    serviceRoleUrl: config.SERVICE_DATABASE_URL,
  });
}

if (require.main === module) {
  serviceMain({
    name: 'export-worker',
    loadConfig: () => loadConfig(exportWorkerConfigSchema),
    create: createExportWorkerApp,
    migrate: migrateExportWorker,
    port: (c) => c.EXPORT_WORKER_PORT,
    host: (c) => c.BIND_HOST,
  });
}
