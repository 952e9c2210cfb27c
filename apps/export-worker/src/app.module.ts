import { DynamicModule, Module } from '@nestjs/common';
import { SERVICE_SCHEMA } from '@dvd/contracts';
import {
  InternalClient,
  PlatformModule,
  SecretBox,
  ServiceDataSourceOptions,
  assertPrivateTargetsAllowed,
  identityVerification,
  storageOptionsFrom,
} from '@dvd/platform';
import { WebhookDelivery } from './delivery/webhook-delivery';
import { ExportWorkerConfig } from './export-worker.config';
import { ExportJobEntity } from './exports/export-job.entity';
import { ExportMetrics } from './exports/export-metrics';
import { EXPORT_CONFIG, ExportRunner } from './exports/export-runner';
import { ExportController } from './exports/export.controller';
import { ExportService } from './exports/export.service';
import { ForgetExportJobsOnDocumentPurged } from './exports/forget-export-jobs-on-document-purged.consumer';
import { ServiceClients } from './exports/service-clients';
import { WakeExportRunnerOnExportRequested } from './exports/wake-export-runner-on-export-requested.consumer';
import { EXPORT_MIGRATIONS } from './migrations';

export function databaseOptions(config: Pick<ExportWorkerConfig, 'DATABASE_URL'>): ServiceDataSourceOptions {
  return { url: config.DATABASE_URL, schema: SERVICE_SCHEMA['export-worker'], entities: [ExportJobEntity], migrations: EXPORT_MIGRATIONS };
}

@Module({})
export class ExportWorkerModule {
  static register(config: ExportWorkerConfig): DynamicModule {
    assertPrivateTargetsAllowed(config);
    const client = (url: string) => new InternalClient(url, config.SERVICE_SIGNING_KEY, 'export-worker', 30_000);
    return {
      module: ExportWorkerModule,
      imports: [
        PlatformModule.forService({
          service: 'export-worker',
          logLevel: config.LOG_LEVEL,
          ...identityVerification(config),
          database: databaseOptions(config),
          messaging: { amqpUrl: config.AMQP_URL, maxDeliveries: config.EVENT_MAX_DELIVERIES, retryDelaysMs: config.EVENT_RETRY_DELAYS_MS },
          storage: storageOptionsFrom(config),
        }),
      ],
      controllers: [ExportController],
      providers: [
        { provide: EXPORT_CONFIG, useValue: config },
        {
          provide: ServiceClients,
          useFactory: () =>
            new ServiceClients(client(config.INTAKE_URL), client(config.COMMUNICATION_URL), client(config.ROUTING_ENGINE_URL)),
        },
        {
          provide: WebhookDelivery,
          useFactory: () =>
            new WebhookDelivery({
              allowPrivateTargets: config.EXPORT_ALLOW_PRIVATE_TARGETS,
              timeoutMs: config.EXPORT_DELIVERY_TIMEOUT_MS,
              secretBox: new SecretBox(config.SECRETS_ENCRYPTION_KEYS),
            }),
        },
        ExportService,
        ExportRunner,
        ExportMetrics,
        WakeExportRunnerOnExportRequested,
        ForgetExportJobsOnDocumentPurged,
      ],
    };
  }
}
