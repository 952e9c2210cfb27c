import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { METRICS, MetricLabel, MetricNameOfType, NO_ROUTE_LABEL } from '@dvd/contracts';

/** A registry per service instance (tests run several services in one process). */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** A counter of the catalogue (`METRICS` in libs/contracts): name, help and labels come from there. */
export function catalogueCounter<N extends MetricNameOfType<'counter'>>(registry: Registry | undefined, name: N): Counter<MetricLabel<N>> {
  const spec = METRICS[name];
  return new Counter({ name, help: spec.help, labelNames: spec.labels, registers: registry ? [registry] : [] });
}

/**
 * A gauge of the catalogue. With `collect`, its value is computed when it is scraped (from
 * Postgres, say); a collect that fails leaves the last values and never fails the scrape.
 */
export function catalogueGauge<N extends MetricNameOfType<'gauge'>>(
  registry: Registry | undefined,
  name: N,
  collect?: (gauge: Gauge<MetricLabel<N>>) => Promise<void>,
  onError?: (err: unknown) => void,
): Gauge<MetricLabel<N>> {
  const spec = METRICS[name];
  return new Gauge<MetricLabel<N>>({
    name,
    help: spec.help,
    labelNames: spec.labels,
    registers: registry ? [registry] : [],
    ...(collect
      ? {
          async collect(this: Gauge<MetricLabel<N>>) {
            try {
              await collect(this);
            } catch (err) {
              onError?.(err);
            }
          },
        }
      : {}),
  });
}

/** Gives every label combination a 0, so that a rate or an alert has a series before the first event. */
export function initialiseLabels<L extends string>(metric: Counter<L>, combinations: Array<Partial<Record<L, string>>>): void {
  for (const labels of combinations) metric.inc(labels, 0);
}

// ---- the route label ------------------------------------------------------------------------

const ROUTE_TEMPLATE = Symbol('dvd.routeTemplate');
type Stamped = IncomingMessage & { [ROUTE_TEMPLATE]?: string };

/**
 * Names the route template of a request that no Express route handles (the gateway's proxy
 * finds it in the contracts' route registry): the `route` label of its metrics.
 */
export function setRouteTemplate(req: IncomingMessage, template: string): void {
  (req as Stamped)[ROUTE_TEMPLATE] = template;
}

/** `/documents/:id` → `/documents/{id}`: one notation for Express routes and the registry's paths. */
export function normaliseRouteTemplate(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

interface MountedRoute {
  pattern: RegExp;
  template: string;
  methods: Record<string, boolean>;
}
interface RouterLayer {
  route?: { path: unknown; methods?: Record<string, boolean> };
}
const mountedRoutes = new WeakMap<object, MountedRoute[]>();

/** The app's routes with plain `:param` paths, read once from its router (fixed after start). */
function mountedRoutesOf(app: { router?: { stack?: RouterLayer[] }; _router?: { stack?: RouterLayer[] } }): MountedRoute[] {
  let routes = mountedRoutes.get(app);
  if (routes) return routes;
  routes = ((app.router ?? app._router)?.stack ?? []).flatMap((layer): MountedRoute[] => {
    const path = layer.route?.path;
    if (typeof path !== 'string' || /[*?{}()]/.test(path)) return [];
    const source = path
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.+^$|[\]\\]/g, '\\$&')))
      .join('/');
    return [{ pattern: new RegExp(`^${source}/?$`), template: normaliseRouteTemplate(path), methods: layer.route?.methods ?? {} }];
  });
  mountedRoutes.set(app, routes);
  return routes;
}

/**
 * The route template a finished request is counted under: the Express route that handled it;
 * the template the handler named (`setRouteTemplate`); for a request refused before routing
 * (identity, body limits), the route it would have reached; otherwise `none`. Never the raw
 * path, which holds ids.
 */
export function routeTemplateOf(req: Request): string {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof route === 'string') return normaliseRouteTemplate(`${req.baseUrl ?? ''}${route}`);
  const stamped = (req as Stamped)[ROUTE_TEMPLATE];
  if (stamped) return stamped;
  const method = req.method === 'HEAD' ? 'get' : req.method.toLowerCase();
  const path = (req.originalUrl ?? req.url ?? '').split('?')[0];
  const candidates = req.app ? mountedRoutesOf(req.app as Parameters<typeof mountedRoutesOf>[0]).filter((r) => r.pattern.test(path)) : [];
  const match = candidates.find((r) => r.methods[method] || r.methods._all) ?? candidates[0];
  return match?.template ?? NO_ROUTE_LABEL;
}

/**
 * Records request durations (RED: rate and errors are the histogram's count by status
 * class). Labels: method, route template (see {@link routeTemplateOf}), status class.
 * Call the returned function once per request, before it is answered.
 */
export function httpRequestObserver(registry: Registry): (req: IncomingMessage, res: ServerResponse) => void {
  const spec = METRICS.http_request_duration_seconds;
  const histogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: spec.help,
    labelNames: spec.labels,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return (req, res) => {
    const end = histogram.startTimer();
    res.once('finish', () => {
      end({ method: req.method ?? 'GET', route: routeTemplateOf(req as Request), status: `${Math.floor(res.statusCode / 100)}xx` });
    });
  };
}
