import { DynamicModule, Module } from '@nestjs/common';
import { SERVICE_SCHEMA } from '@dvd/contracts';
import { PlatformModule, ServiceDataSourceOptions } from '@dvd/platform';
import { CommunicationConfig } from './communication.config';
import { COMMUNICATION_MIGRATIONS } from './migrations';
import { ThreadController } from './threads/thread.controller';

export function databaseOptions(config: Pick<CommunicationConfig, 'DATABASE_URL'>): ServiceDataSourceOptions {
  return { url: config.DATABASE_URL, schema: SERVICE_SCHEMA.communication, entities: [], migrations: COMMUNICATION_MIGRATIONS };
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
          internalAuthSecret: config.INTERNAL_AUTH_SECRET,
          database: databaseOptions(config),
          messaging: { amqpUrl: config.AMQP_URL, maxDeliveries: config.EVENT_MAX_DELIVERIES },
        }),
      ],
      controllers: [ThreadController],
    };
  }
}
