import { DynamicModule, Module } from '@nestjs/common';
import { SERVICE_SCHEMA } from '@dvd/contracts';
import { PlatformModule, SecretBox, ServiceDataSourceOptions, assertPrivateTargetsAllowed, identityVerification } from '@dvd/platform';
import { AuthorityController, INGEST_TARGET_POLICY } from './authorities/authority.controller';
import { AuthorityEntity, UnitEntity } from './authorities/authority.entity';
import { AuthorityService } from './authorities/authority.service';
import { IngestSecretSealer } from './authorities/ingest-secret.sealer';
import { IngestSecretStore } from './authorities/ingest-secret.store';
import { InternalAuthorityController } from './authorities/internal-authority.controller';
import { InternalUnitController } from './authorities/internal-unit.controller';
import { AuthorityKeyEntity } from './keys/authority-key.entity';
import { KeyController } from './keys/key.controller';
import { InternalKeyController } from './keys/internal-key.controller';
import { KeyService } from './keys/key.service';
import { ROUTING_MIGRATIONS } from './migrations';
import { ForgetDecisionOnDocumentPurged } from './routing/forget-decision-on-document-purged.consumer';
import { InternalRoutingController } from './routing/internal-routing.controller';
import { RerouteUnroutableOnRoutingChange } from './routing/reroute-unroutable-on-routing-change.consumer';
import { RouteDocumentOnDocumentReceived } from './routing/route-document-on-document-received.consumer';
import { RoutingDecisionEntity } from './routing/routing-decision.entity';
import { Router } from './routing/router';
import { RoutingMetrics } from './routing/routing-metrics';
import { UnroutableController } from './routing/unroutable.controller';
import { RoutingEngineConfig } from './routing-engine.config';
import { RoutingRuleEntity } from './rules/routing-rule.entity';
import { RuleController } from './rules/rule.controller';
import { RuleService } from './rules/rule.service';
import { RulesCache } from './rules/rules-cache';

export const ROUTING_ENTITIES = [AuthorityEntity, UnitEntity, AuthorityKeyEntity, RoutingRuleEntity, RoutingDecisionEntity];

export function databaseOptions(config: Pick<RoutingEngineConfig, 'DATABASE_URL'>): ServiceDataSourceOptions {
  return { url: config.DATABASE_URL, schema: SERVICE_SCHEMA['routing-engine'], entities: ROUTING_ENTITIES, migrations: ROUTING_MIGRATIONS };
}

@Module({})
export class RoutingEngineModule {
  static register(config: RoutingEngineConfig): DynamicModule {
    assertPrivateTargetsAllowed(config);
    return {
      module: RoutingEngineModule,
      imports: [
        PlatformModule.forService({
          service: 'routing-engine',
          logLevel: config.LOG_LEVEL,
          ...identityVerification(config, ['export-worker', 'intake', 'realtime']),
          database: databaseOptions(config),
          messaging: { amqpUrl: config.AMQP_URL, maxDeliveries: config.EVENT_MAX_DELIVERIES, retryDelaysMs: config.EVENT_RETRY_DELAYS_MS },
        }),
      ],
      controllers: [
        AuthorityController,
        KeyController,
        RuleController,
        UnroutableController,
        InternalAuthorityController,
        InternalKeyController,
        InternalUnitController,
        InternalRoutingController,
      ],
      providers: [
        { provide: SecretBox, useValue: new SecretBox(config.SECRETS_ENCRYPTION_KEYS) },
        { provide: INGEST_TARGET_POLICY, useValue: { allowPrivateTargets: config.EXPORT_ALLOW_PRIVATE_TARGETS } },
        IngestSecretStore,
        IngestSecretSealer,
        AuthorityService,
        KeyService,
        RuleService,
        RulesCache,
        Router,
        RoutingMetrics,
        RouteDocumentOnDocumentReceived,
        RerouteUnroutableOnRoutingChange,
        ForgetDecisionOnDocumentPurged,
      ],
    };
  }
}
