import { DynamicModule, Module } from '@nestjs/common';
import { SERVICE_SCHEMA } from '@dvd/contracts';
import { InternalClient, PlatformModule, identityVerification, ServiceDataSourceOptions } from '@dvd/platform';
import { AppointmentBookings } from './appointments/appointment-bookings';
import { AppointmentController } from './appointments/appointment.controller';
import { AppointmentReminderSweeper } from './appointments/appointment-reminder.sweeper';
import { AppointmentService } from './appointments/appointment.service';
import { RememberAuthorityNameOnAuthorityChanged } from './authorities/remember-authority-name-on-authority-changed.consumer';
import { COMMUNICATION_CONFIG } from './communication-config.token';
import { CommunicationConfig } from './communication.config';
import { ForgetThreadsOnDocumentPurged } from './documents/forget-threads-on-document-purged.consumer';
import { KnownDocuments } from './documents/known-documents';
import { RecordUnitOnDocumentRouted } from './documents/record-unit-on-document-routed.consumer';
import { RememberDocumentOnDocumentReceived } from './documents/remember-document-on-document-received.consumer';
import { InternalThreadController } from './internal/internal-thread.controller';
import { MessageEntity } from './messages/message.entity';
import { MessageService } from './messages/message.service';
import { COMMUNICATION_MIGRATIONS } from './migrations';
import { ThreadController } from './threads/thread.controller';
import { ThreadEntity } from './threads/thread.entity';
import { ThreadService } from './threads/thread.service';

export function databaseOptions(config: Pick<CommunicationConfig, 'DATABASE_URL'>): ServiceDataSourceOptions {
  return {
    url: config.DATABASE_URL,
    schema: SERVICE_SCHEMA.communication,
    entities: [ThreadEntity, MessageEntity],
    migrations: COMMUNICATION_MIGRATIONS,
  };
}

@Module({})
export class CommunicationModule {
  static register(config: CommunicationConfig): DynamicModule {
    return {
      module: CommunicationModule,
      imports: [
        PlatformModule.forService({
          service: 'communication',
          logLevel: config.LOG_LEVEL,
          ...identityVerification(config, ['export-worker', 'intake']),
          database: databaseOptions(config),
          messaging: { amqpUrl: config.AMQP_URL, maxDeliveries: config.EVENT_MAX_DELIVERIES, retryDelaysMs: config.EVENT_RETRY_DELAYS_MS },
        }),
      ],
      controllers: [ThreadController, AppointmentController, InternalThreadController],
      providers: [
        { provide: COMMUNICATION_CONFIG, useValue: config },
        { provide: InternalClient, useFactory: () => new InternalClient(config.INTAKE_URL, config.SERVICE_SIGNING_KEY, 'communication') },
        KnownDocuments,
        RememberDocumentOnDocumentReceived,
        RecordUnitOnDocumentRouted,
        ForgetThreadsOnDocumentPurged,
        RememberAuthorityNameOnAuthorityChanged,
        ThreadService,
        MessageService,
        AppointmentBookings,
        AppointmentService,
        AppointmentReminderSweeper,
      ],
    };
  }
}
