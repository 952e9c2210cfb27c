/**
 * The metric names the services export, as the alert and dashboard checks compare them:
 * prom-client's default metrics (read from a real registry, as every service registers
 * them) and the catalogue `METRICS` in libs/contracts, from which the services create every
 * metric of their own (the telemetry e2e test scrapes each service for each of them).
 * Histograms count with their _bucket, _sum and _count series.
 */
import { METRICS } from '@dvd/contracts';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { seriesOf } from './promql';

/** prom-client's default metrics, as collectDefaultMetrics registers them in every service. */
export async function defaultMetrics(): Promise<Map<string, string>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = await registry.getMetricsAsJSON();
  registry.clear();
  return new Map(metrics.map((m) => [m.name, String(m.type)]));
}

/** The catalogue's metrics: name -> type. */
export function catalogueMetrics(): Map<string, string> {
  return new Map(Object.entries(METRICS).map(([name, spec]) => [name, spec.type]));
}

/** Every series name a query may read from the services. */
export async function exportedSeries(): Promise<Set<string>> {
  const all = new Map([...(await defaultMetrics()), ...catalogueMetrics()]);
  return new Set([...all].flatMap(([name, type]) => (type === 'histogram' || type === 'summary' ? seriesOf(name) : [name])));
}
