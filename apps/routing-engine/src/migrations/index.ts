import { InitRouting1764150000000 } from './1764150000000-InitRouting';

export const ROUTING_MIGRATIONS = [InitRouting1764150000000];
