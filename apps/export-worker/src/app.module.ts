import { DynamicModule, Module } from '@nestjs/common';
import { SERVICE_SCHEMA } from '@dvd/contracts';
import { PlatformModule, ServiceDataSourceOptions } from '@dvd/platform';
import { ExportWorkerConfig } from './export-worker.config';
import { ExportController } from './exports/export.controller';
import { EXPORT_MIGRATIONS } from './migrations';

export function databaseOptions(config: Pick<ExportWorkerConfig, 'DATABASE_URL'>): ServiceDataSourceOptions {
  return { url: config.DATABASE_URL, schema: SERVICE_SCHEMA['export-worker'], entities: [], migrations: EXPORT_MIGRATIONS };
}

@Module({})
export class ExportWorkerModule {
  static register(config: ExportWorkerConfig): DynamicModule {
    return {
      module: ExportWorkerModule,
      imports: [
        PlatformModule.forService({
          service: 'export-worker',
          logLevel: config.LOG_LEVEL,
          internalAuthSecret: config.INTERNAL_AUTH_SECRET,
          database: databaseOptions(config),
          messaging: { amqpUrl: config.AMQP_URL, maxDeliveries: config.EVENT_MAX_DELIVERIES },
          storage: {
            endpoint: config.S3_ENDPOINT,
            bucket: config.S3_BUCKET,
            region: config.S3_REGION,
            accessKeyId: config.S3_ACCESS_KEY_ID,
            secretAccessKey: config.S3_SECRET_ACCESS_KEY,
          },
        }),
      ],
      controllers: [ExportController],
    };
  }
}
