import { InitRouting1764150000000 } from './1764150000000-InitRouting';
import { RulesVersion1764160000000 } from './1764160000000-RulesVersion';

export const ROUTING_MIGRATIONS = [InitRouting1764150000000, RulesVersion1764160000000];
