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

/** One registered route: its path pattern, method, owner and template (the `route` label of its metrics). */
interface RouteEntry {
  pattern: RegExp;
  method: string;
  /** `gateway`: answered by the gateway itself (the event stream's tickets). */
  upstream: Upstream | 'gateway';
  /** The registry's path below /api/v1, `{service}` filled in: `/documents/{id}`. */
  template: string;
}

const ROUTE_ENTRIES: readonly RouteEntry[] = ROUTES.filter((route) => !route.public).flatMap((route) =>
  (route.service === '{service}' ? DEAD_LETTER_SERVICES : [route.service]).map((service): RouteEntry => {
    const template = route.path.replace('{service}', service);
    return { pattern: templatePattern(template), method: route.method, upstream: service, template };
  }),
);

/**
 * Which service owns a public path (below /api/v1), derived from the route registry of
 * libs/contracts: a route added there is routed here. `{service}` (dead letters) names the
 * owner in the path. A path no registered route has is answered 404 by the gateway. Routes the
 * gateway answers itself (the event stream's tickets) are not in it.
 */
export const ROUTE_TABLE: ReadonlyArray<[RegExp, Upstream]> = ROUTE_ENTRIES.flatMap((e) =>
  e.upstream === 'gateway' ? [] : [[e.pattern, e.upstream] as [RegExp, Upstream]],
);

export function upstreamFor(pathBelowPrefix: string): Upstream | null {
  for (const [pattern, upstream] of ROUTE_TABLE) if (pattern.test(pathBelowPrefix)) return upstream;
  return null;
}

/**
 * The registry's template of a path below /api/v1 (`/documents/{id}`): the route of that
 * method, else any route of that path (the service answers the method itself); null for a
 * path no route has. Labels the gateway's request metrics, which never carry the raw path.
 */
export function routeTemplateFor(method: string, pathBelowPrefix: string): string | null {
  const m = method === 'HEAD' ? 'get' : method.toLowerCase();
  let first: RouteEntry | undefined;
  for (const e of ROUTE_ENTRIES) {
    if (!e.pattern.test(pathBelowPrefix)) continue;
    if (e.method === m) return e.template;
    first ??= e;
  }
  return first?.template ?? null;
}

/**
 * The registry's public routes (`public: true`): served from the gateway's root without a
 * token, GET (and HEAD) only, e.g. `/.well-known/jwks.json` → intake.
 */
const PUBLIC_ROUTES = ROUTES.filter((route) => route.public);
export const PUBLIC_ROUTE_TABLE: ReadonlyArray<[RegExp, Upstream]> = PUBLIC_ROUTES.map((route) => {
  if (route.method !== 'get' || route.service === '{service}' || route.service === 'gateway')
    throw new Error(`public route ${route.operationId} must be a GET of one service`);
  return [templatePattern(route.path), route.service];
});
const PUBLIC_TEMPLATES = PUBLIC_ROUTES.map((route) => route.path);

export function publicUpstreamFor(method: string, path: string): Upstream | null {
  return publicRouteFor(method, path)?.upstream ?? null;
}

/** The public route of a request (GET and HEAD only): its owner and its template (the path itself: it has no variables). */
export function publicRouteFor(method: string, path: string): { upstream: Upstream; template: string } | null {
  if (method !== 'GET' && method !== 'HEAD') return null;
  const i = PUBLIC_ROUTE_TABLE.findIndex(([pattern]) => pattern.test(path));
  return i < 0 ? null : { upstream: PUBLIC_ROUTE_TABLE[i][1], template: PUBLIC_TEMPLATES[i] };
}

export function upstreamUrls(config: GatewayConfig): Record<Upstream, string> {
  return {
    intake: config.INTAKE_URL,
    'routing-engine': config.ROUTING_ENGINE_URL,
    communication: config.COMMUNICATION_URL,
    'export-worker': config.EXPORT_WORKER_URL,
    realtime: config.REALTIME_URL,
  };
}
