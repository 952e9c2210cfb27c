/**
 * The metric names the services export, as the alert and dashboard checks compare them:
 * prom-client's default metrics (read from a real registry, as every service registers
 * them), the metrics the code declares (`new Counter|Gauge|Histogram|Summary({ name })` in
 * apps/ and libs/), and the planned names of PLANNED_METRICS (deploy-inputs.ts) until the
 * services export them. Histograms count with their _bucket, _sum and _count series.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { PLANNED_METRICS, ROOT } from './deploy-inputs';
import { seriesOf } from './promql';
import { read } from './yaml-files';

const DECLARATION = /new\s+(Counter|Gauge|Histogram|Summary)\s*(?:<[^>]*>)?\s*\(\s*\{\s*name:\s*['"]([a-zA-Z_:][a-zA-Z0-9_:]*)['"]/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'test') out.push(...sourceFiles(path));
    else if (/\.ts$/.test(entry.name) && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(entry.name)) out.push(path);
  }
  return out;
}

/** Metrics declared in the services' code: name -> type. */
export function declaredMetrics(): Map<string, string> {
  const found = new Map<string, string>();
  for (const top of ['apps', 'libs']) {
    for (const file of sourceFiles(join(ROOT, top))) {
      for (const m of read(file).matchAll(DECLARATION)) found.set(m[2], m[1].toLowerCase());
    }
  }
  return found;
}

/** prom-client's default metrics, as collectDefaultMetrics registers them in every service. */
export async function defaultMetrics(): Promise<Map<string, string>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = await registry.getMetricsAsJSON();
  registry.clear();
  return new Map(metrics.map((m) => [m.name, String(m.type)]));
}

/** Every series name a query may read from the services (the one list to point elsewhere later). */
export async function exportedSeries(): Promise<Set<string>> {
  const all = new Map([...(await defaultMetrics()), ...declaredMetrics(), ...Object.entries(PLANNED_METRICS)]);
  return new Set([...all].flatMap(([name, type]) => (type === 'histogram' || type === 'summary' ? seriesOf(name) : [name])));
}
