import { DynamicModule, Module } from '@nestjs/common';
import { SERVICE_SCHEMA } from '@dvd/contracts';
import { PlatformModule, identityVerification, ServiceDataSourceOptions, storageOptionsFrom } from '@dvd/platform';
import { AuthorityKeyDirectory, RoutingEngineClient, routingEngineClient } from './authorities/authority-key-directory';
import { KnownAuthorities } from './authorities/known-authority';
import { KeepAuthorityOnAuthorityChanged } from './authorities/keep-authority-on-authority-changed.consumer';
import { DocumentDecisions } from './documents/document-decisions';
import { DocumentController } from './documents/document.controller';
import { DocumentEntity } from './documents/document.entity';
import { DocumentService } from './documents/document.service';
import { InternalDocumentController } from './documents/internal-document.controller';
import { MarkDocumentAssignedOnThreadClaimed } from './documents/mark-document-assigned-on-thread-claimed.consumer';
import { MarkDocumentExportedOnExportCompleted } from './documents/mark-document-exported-on-export-completed.consumer';
import { MarkDocumentRoutedOnDocumentRouted } from './documents/mark-document-routed-on-document-routed.consumer';
import { OverdueSweeper } from './documents/overdue-sweeper';
import { RerouteService } from './documents/reroute.service';
import { CommunicationClient, ThreadHolders, communicationClient } from './documents/thread-holders';
import { INTAKE_CONFIG } from './intake-config.token';
import { IntakeConfig, receiptKeyringFrom } from './intake.config';
import { INTAKE_MIGRATIONS } from './migrations';
import { ForwardService } from './payloads/forward.service';
import { IdempotencyService } from './payloads/idempotency.service';
import { PayloadStore } from './payloads/payload-store';
import { UploadService } from './payloads/upload.service';
import { ReceiptJwks, ReceiptKeysController } from './receipts/receipt-keys.controller';
import { RECEIPT_KEYRING, ReceiptSigner } from './receipts/receipt-signer';
import { PendingObjectSweeper } from './retention/pending-object.sweeper';
import { RetentionReaper } from './retention/retention-reaper';
import { DocumentMetrics } from './documents/document-metrics';

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
          // the receipt keys are public: the gateway forwards GET /.well-known/jwks.json without an identity
          ...identityVerification(config, ['communication', 'export-worker'], { publicPaths: ['/.well-known/jwks.json'] }),
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
      controllers: [DocumentController, InternalDocumentController, ReceiptKeysController],
      providers: [
        { provide: INTAKE_CONFIG, useValue: config },
        { provide: RoutingEngineClient, useFactory: () => routingEngineClient(config.ROUTING_ENGINE_URL, config.SERVICE_SIGNING_KEY) },
        { provide: CommunicationClient, useFactory: () => communicationClient(config.COMMUNICATION_URL, config.SERVICE_SIGNING_KEY) },
        // from the environment or a mounted file, never from the database (ADR 0019)
        { provide: RECEIPT_KEYRING, useFactory: () => receiptKeyringFrom(config) },
        AuthorityKeyDirectory,
        KnownAuthorities,
        ThreadHolders,
        DocumentService,
        RerouteService,
        DocumentDecisions,
        DocumentMetrics,
        IdempotencyService,
        PayloadStore,
        ReceiptSigner,
        ReceiptJwks,
        UploadService,
        ForwardService,
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
