import { InitRouting1764150000000 } from './1764150000000-InitRouting';
import { RulesVersion1764160000000 } from './1764160000000-RulesVersion';
import { RoutingDeadLetters1764180900000 } from './1764180900000-DeadLetters';
import { IngestSecrets1764212000000 } from './1764212000000-IngestSecrets';
import { ReroutingAndClaimDeadline1764400000000 } from './1764400000000-ReroutingAndClaimDeadline';
import { RoutingOutboxTraceContext1764600000000 } from './1764600000000-OutboxTraceContext';

export const ROUTING_MIGRATIONS = [
  InitRouting1764150000000,
  RulesVersion1764160000000,
  RoutingDeadLetters1764180900000,
  IngestSecrets1764212000000,
  ReroutingAndClaimDeadline1764400000000,
  RoutingOutboxTraceContext1764600000000,
];
