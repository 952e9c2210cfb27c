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
export const ROUTE_TABLE: ReadonlyArray<[RegExp, Upstream]> = ROUTES.filter((route) => !route.public).flatMap((route) =>
  (route.service === '{service}' ? DEAD_LETTER_SERVICES : [route.service]).map((service): [RegExp, Upstream] => [
    templatePattern(route.path.replace('{service}', service)),
    service,
  ]),
);

export function upstreamFor(pathBelowPrefix: string): Upstream | null {
  for (const [pattern, upstream] of ROUTE_TABLE) if (pattern.test(pathBelowPrefix)) return upstream;
  return null;
}

/**
 * The registry's public routes (`public: true`): served from the gateway's root without a
 * token, GET (and HEAD) only, e.g. `/.well-known/jwks.json` → intake.
 */
export const PUBLIC_ROUTE_TABLE: ReadonlyArray<[RegExp, Upstream]> = ROUTES.filter((route) => route.public).map((route) => {
  if (route.method !== 'get' || route.service === '{service}')
    throw new Error(`public route ${route.operationId} must be a GET of one service`);
  return [templatePattern(route.path), route.service];
});

export function publicUpstreamFor(method: string, path: string): Upstream | null {
  if (method !== 'GET' && method !== 'HEAD') return null;
  for (const [pattern, upstream] of PUBLIC_ROUTE_TABLE) if (pattern.test(path)) return upstream;
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
