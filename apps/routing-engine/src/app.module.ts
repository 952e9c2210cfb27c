import { DynamicModule, Module } from '@nestjs/common';
import { SERVICE_SCHEMA } from '@dvd/contracts';
import { PlatformModule, ServiceDataSourceOptions } from '@dvd/platform';
import { AuthorityController } from './authorities/authority.controller';
import { AuthorityEntity, UnitEntity } from './authorities/authority.entity';
import { ROUTING_MIGRATIONS } from './migrations';
import { RoutingEngineConfig } from './routing-engine.config';

export const ROUTING_ENTITIES = [AuthorityEntity, UnitEntity];

export function databaseOptions(config: Pick<RoutingEngineConfig, 'DATABASE_URL'>): ServiceDataSourceOptions {
  return { url: config.DATABASE_URL, schema: SERVICE_SCHEMA['routing-engine'], entities: ROUTING_ENTITIES, migrations: ROUTING_MIGRATIONS };
}

@Module({})
export class RoutingEngineModule {
  static register(config: RoutingEngineConfig): DynamicModule {
    return {
      module: RoutingEngineModule,
      imports: [
        PlatformModule.forService({
          service: 'routing-engine',
          logLevel: config.LOG_LEVEL,
          internalAuthSecret: config.INTERNAL_AUTH_SECRET,
          database: databaseOptions(config),
          messaging: { amqpUrl: config.AMQP_URL, maxDeliveries: config.EVENT_MAX_DELIVERIES },
          redis: { url: config.REDIS_URL },
        }),
      ],
      controllers: [AuthorityController],
    };
  }
}
