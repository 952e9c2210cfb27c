import { SERVICE_SCHEMA, type ServiceName } from './services';

/**
 * Where a metric is served: `all` — every service; `events` — every service with an event
 * bus (outbox, queue, dead letters); otherwise the services named.
 */
export type MetricScope = 'all' | 'events' | readonly ServiceName[];

export interface MetricSpec {
  type: 'counter' | 'gauge' | 'histogram';
  /** Label names. Values are fixed vocabularies or ids of a few hundred things at most; never a raw path, a user or a document. */
  labels: readonly string[];
  help: string;
  scope: MetricScope;
  /** Made by prom-client's default metrics, not by our code. */
  builtIn?: true;
}

/**
 * Every metric the services serve on `/metrics` that dashboards and alert rules may rely
 * on: the one list that the code registering them, `docs/metrics.md` and the tests read.
 * Prometheus adds `job`/`instance`; every series also carries `service` (the registry's
 * default label).
 */
export const METRICS = {
  // ---- HTTP: rate, errors, duration per route template --------------------------------------
  http_request_duration_seconds: {
    type: 'histogram',
    labels: ['method', 'route', 'status'],
    help: 'HTTP requests by method, route template (`/api/v1/documents/{id}`; `none` when no route matched) and status class (`2xx`…`5xx`)',
    scope: 'all',
  },

  // ---- process (prom-client defaults; the rest of them is served as well) ------------------
  process_cpu_seconds_total: { type: 'counter', labels: [], help: 'CPU time the process used', scope: 'all', builtIn: true },
  process_resident_memory_bytes: { type: 'gauge', labels: [], help: 'Resident memory of the process', scope: 'all', builtIn: true },
  process_start_time_seconds: {
    type: 'gauge',
    labels: [],
    help: 'When the process started (Unix time): a change is a restart',
    scope: 'all',
    builtIn: true,
  },
  nodejs_eventloop_lag_p99_seconds: {
    type: 'gauge',
    labels: [],
    help: '99th percentile of the event loop lag',
    scope: 'all',
    builtIn: true,
  },
  nodejs_heap_size_used_bytes: { type: 'gauge', labels: [], help: 'V8 heap in use', scope: 'all', builtIn: true },

  // ---- events: outbox, consumers, dead letters ------------------------------------------
  dvd_outbox_pending_events: {
    type: 'gauge',
    labels: [],
    help: 'Events in the outbox not yet confirmed by the broker (counted up to 100000), read from Postgres at scrape time',
    scope: 'events',
  },
  dvd_outbox_oldest_event_age_seconds: {
    type: 'gauge',
    labels: [],
    help: 'Age of the oldest event in the outbox (0 when it is empty): the outbox lag, read from Postgres at scrape time',
    scope: 'events',
  },
  dvd_events_published_total: {
    type: 'counter',
    labels: ['event_type'],
    help: 'Events the outbox relay published and the broker confirmed',
    scope: 'events',
  },
  dvd_events_consumed_total: {
    type: 'counter',
    labels: ['queue', 'event_type', 'outcome'],
    help: 'Deliveries handled by the consumer: `applied`, `duplicate` (applied before, changed nothing), `failed` (handler error)',
    scope: 'events',
  },
  dvd_events_redelivered_total: {
    type: 'counter',
    labels: ['queue', 'cause'],
    help: 'Deliveries of an event that came before: `retry` (back from a delay queue after a failed attempt), `broker` (redelivered after a lost consumer or channel)',
    scope: 'events',
  },
  dvd_events_dead_lettered_total: {
    type: 'counter',
    labels: ['queue', 'reason'],
    help: 'Events given up and stored in dead_letters: `handler-failed` (out of attempts), `malformed`, `delivery-limit` (dead-lettered by the broker)',
    scope: 'events',
  },
  dvd_dead_letters: {
    type: 'gauge',
    labels: ['queue'],
    help: 'Dead letters stored now (waiting for an operator to replay or purge them), read from Postgres at scrape time',
    scope: 'events',
  },

  // ---- documents -------------------------------------------------------------------------
  dvd_documents_received_total: {
    type: 'counter',
    labels: [],
    help: 'Documents stored (uploads and the new documents of forwards), counted after the commit',
    scope: ['intake'],
  },
  dvd_documents_routed_total: {
    type: 'counter',
    labels: [],
    help: 'Routing decisions that gave a document a unit (first decisions and re-routings), counted after the commit',
    scope: ['routing-engine'],
  },
  dvd_documents_unroutable_total: {
    type: 'counter',
    labels: [],
    help: 'Received documents whose first routing decision found no unit (unknown authority or no unit), counted after the commit',
    scope: ['routing-engine'],
  },
  dvd_documents_unroutable: {
    type: 'gauge',
    labels: [],
    help: 'Documents unroutable now (waiting for a unit, a rule or a re-routing by hand), read from Postgres at scrape time',
    scope: ['routing-engine'],
  },
  dvd_documents_overdue: {
    type: 'gauge',
    labels: ['authority_id'],
    help: "Routed documents nobody claimed or decided within their authority's claimDeadline, per authority, read from Postgres at scrape time",
    scope: ['intake'],
  },

  // ---- exports ---------------------------------------------------------------------------
  dvd_export_attempts_total: {
    type: 'counter',
    labels: ['outcome'],
    help: 'Export attempts by how they ended: `delivered`, `retry` (failed, tried again later), `failed` (the job gave up)',
    scope: ['export-worker'],
  },
  dvd_export_failures_total: {
    type: 'counter',
    labels: ['category'],
    help: 'Failed export attempts (retried or final) by category (`lastErrorCategory` of the job)',
    scope: ['export-worker'],
  },
  dvd_export_jobs_pending: {
    type: 'gauge',
    labels: [],
    help: 'Export jobs waiting or running (PENDING, RUNNING), read from Postgres at scrape time',
    scope: ['export-worker'],
  },
  dvd_export_oldest_pending_age_seconds: {
    type: 'gauge',
    labels: [],
    help: 'Age of the oldest export job waiting or running (0 when there is none), read from Postgres at scrape time',
    scope: ['export-worker'],
  },

  // ---- retention reaper ------------------------------------------------------------------
  dvd_reaper_runs_total: {
    type: 'counter',
    labels: ['outcome'],
    help: 'Retention reaper passes, by outcome (`completed`, `interrupted`)',
    scope: ['intake'],
  },
  dvd_reaper_purged_total: { type: 'counter', labels: [], help: 'Documents purged by the retention reaper', scope: ['intake'] },
  dvd_reaper_failures_total: {
    type: 'counter',
    labels: [],
    help: 'Documents whose purge failed (retried later with backoff)',
    scope: ['intake'],
  },
  dvd_reaper_deferred: {
    type: 'gauge',
    labels: [],
    help: 'Expired documents left for later by the last pass (backing off after a failure, or claimed elsewhere)',
    scope: ['intake'],
  },
  dvd_reaper_last_run_timestamp_seconds: {
    type: 'gauge',
    labels: [],
    help: 'When the last retention reaper pass ended (Unix time)',
    scope: ['intake'],
  },
  dvd_reaper_last_run_duration_seconds: { type: 'gauge', labels: [], help: 'How long the last pass took', scope: ['intake'] },

  // ---- gateway ---------------------------------------------------------------------------
  dvd_rate_limit_rejections_total: {
    type: 'counter',
    labels: ['role'],
    help: 'Requests refused with 429 because the caller exhausted the rate limit of their role',
    scope: ['gateway'],
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof METRICS;
export type MetricLabel<N extends MetricName> = (typeof METRICS)[N]['labels'][number];
export type MetricNameOfType<T extends MetricSpec['type']> = {
  [N in MetricName]: (typeof METRICS)[N]['type'] extends T ? N : never;
}[MetricName];

/** The route label of a request that matched no route (an unknown path): one fixed value, never the path. */
export const NO_ROUTE_LABEL = 'none';

/** The metrics a service serves, by the scopes of {@link METRICS} (every service with a schema has an event bus). */
export function metricsOf(service: ServiceName): MetricName[] {
  return (Object.keys(METRICS) as MetricName[]).filter((name) => {
    const scope: MetricScope = METRICS[name].scope;
    if (scope === 'all') return true;
    if (scope === 'events') return service in SERVICE_SCHEMA;
    return scope.includes(service);
  });
}
