import { DynamicModule, Module } from '@nestjs/common';
import { SERVICE_SCHEMA } from '@dvd/contracts';
import { PlatformModule, identityVerification, ServiceDataSourceOptions, storageOptionsFrom } from '@dvd/platform';
import { AuthorityKeyDirectory, RoutingEngineClient, routingEngineClient } from './authorities/authority-key-directory';
import { KeepAuthorityOnAuthorityChanged } from './authorities/keep-authority-on-authority-changed.consumer';
import { DocumentController } from './documents/document.controller';
import { DocumentEntity } from './documents/document.entity';
import { DocumentService } from './documents/document.service';
import { InternalDocumentController } from './documents/internal-document.controller';
import { MarkDocumentAssignedOnThreadClaimed } from './documents/mark-document-assigned-on-thread-claimed.consumer';
import { MarkDocumentExportedOnExportCompleted } from './documents/mark-document-exported-on-export-completed.consumer';
import { MarkDocumentRoutedOnDocumentRouted } from './documents/mark-document-routed-on-document-routed.consumer';
import { OverdueSweeper } from './documents/overdue-sweeper';
import { RerouteService } from './documents/reroute.service';
import { INTAKE_CONFIG } from './intake-config.token';
import { IntakeConfig } from './intake.config';
import { INTAKE_MIGRATIONS } from './migrations';
import { IdempotencyService } from './payloads/idempotency.service';
import { UploadService } from './payloads/upload.service';
import { PendingObjectSweeper } from './retention/pending-object.sweeper';
import { RetentionReaper } from './retention/retention-reaper';

export function databaseOptions(config: Pick<IntakeConfig, 'DATABASE_URL'>): ServiceDataSourceOptions {
  return { url: config.DATABASE_URL, schema: SERVICE_SCHEMA.intake, entities: [DocumentEntity], migrations: INTAKE_MIGRATIONS };
}

@Module({})
export class IntakeModule {
  static register(config: IntakeConfig, o: { relayEnabled?: boolean } = {}): DynamicModule {
    return {
      module: IntakeModule,
      imports: [
        PlatformModule.forService({
          service: 'intake',
          logLevel: config.LOG_LEVEL,
          ...identityVerification(config, ['communication', 'export-worker']),
          database: databaseOptions(config),
          messaging: {
            amqpUrl: config.AMQP_URL,
            maxDeliveries: config.EVENT_MAX_DELIVERIES,
            retryDelaysMs: config.EVENT_RETRY_DELAYS_MS,
            relayEnabled: o.relayEnabled,
          },
          storage: storageOptionsFrom(config),
        }),
      ],
      controllers: [DocumentController, InternalDocumentController],
      providers: [
        { provide: INTAKE_CONFIG, useValue: config },
        { provide: RoutingEngineClient, useFactory: () => routingEngineClient(config.ROUTING_ENGINE_URL, config.SERVICE_SIGNING_KEY) },
        AuthorityKeyDirectory,
        DocumentService,
        RerouteService,
        IdempotencyService,
        UploadService,
        PendingObjectSweeper,
        RetentionReaper,
        OverdueSweeper,
        KeepAuthorityOnAuthorityChanged,
        MarkDocumentRoutedOnDocumentRouted,
        MarkDocumentAssignedOnThreadClaimed,
        MarkDocumentExportedOnExportCompleted,
      ],
    };
  }
}
