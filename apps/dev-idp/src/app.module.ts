import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@dvd/platform';
import { DevIdpConfig } from './dev-idp.config';
import { IssuerName, SigningKey } from './key-store';
import { DEV_IDP_OIDC, InteractionController } from './oidc/interaction.controller';
import { IssuerProviders } from './oidc/providers';
import { DEV_IDP_CONFIG, DEV_IDP_KEYS, TokenController } from './token.controller';

@Module({})
export class DevIdpModule {
  static register(config: DevIdpConfig, keys: Record<IssuerName, SigningKey>, providers: IssuerProviders): DynamicModule {
    return {
      module: DevIdpModule,
      imports: [PlatformModule.forService({ service: 'dev-idp', logLevel: config.LOG_LEVEL })],
      controllers: [TokenController, InteractionController],
      providers: [
        { provide: DEV_IDP_CONFIG, useValue: config },
        { provide: DEV_IDP_KEYS, useValue: keys },
        { provide: DEV_IDP_OIDC, useValue: providers },
      ],
    };
  }
}
