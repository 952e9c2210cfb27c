import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@dvd/platform';
import { GatewayConfig } from './gateway.config';

@Module({})
export class GatewayModule {
  static register(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        PlatformModule.forService({
          service: 'gateway',
          logLevel: config.LOG_LEVEL,
          redis: { url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, optional: true },
        }),
      ],
    };
  }
}
