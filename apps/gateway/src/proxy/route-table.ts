import { DEAD_LETTER_SERVICES, ROUTES, type Upstream as RouteUpstream } from '@dvd/contracts';
import { GatewayConfig } from '../gateway.config';

export type Upstream = RouteUpstream;

/** A path template of the registry (`/documents/{id}`) as an anchored pattern; a trailing slash is allowed. */
function templatePattern(path: string): RegExp {
  const source = path
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}/?$`);
}

/**
 * Which service owns a public path (below /api/v1), derived from the route registry of
 * libs/contracts: a route added there is routed here. `{service}` (dead letters) names the
 * owner in the path. A path no registered route has is answered 404 by the gateway.
 */
export const ROUTE_TABLE: ReadonlyArray<[RegExp, Upstream]> = ROUTES.flatMap((route) =>
  (route.service === '{service}' ? DEAD_LETTER_SERVICES : [route.service]).map((service): [RegExp, Upstream] => [
    templatePattern(route.path.replace('{service}', service)),
    service,
  ]),
);

export function upstreamFor(pathBelowPrefix: string): Upstream | null {
  for (const [pattern, upstream] of ROUTE_TABLE) if (pattern.test(pathBelowPrefix)) return upstream;
  return null;
}

export function upstreamUrls(config: GatewayConfig): Record<Upstream, string> {
  return {
    intake: config.INTAKE_URL,
    'routing-engine': config.ROUTING_ENGINE_URL,
    communication: config.COMMUNICATION_URL,
    'export-worker': config.EXPORT_WORKER_URL,
  };
}
