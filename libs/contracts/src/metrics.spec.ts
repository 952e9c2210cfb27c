import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS, MetricName, metricsOf } from './metrics';

/** The rows of the table in docs/metrics.md: `| \`name\` | type | \`label\`, … | meaning |`. */
function documented(): Map<string, { type: string; labels: string[] }> {
  const text = readFileSync(join(__dirname, '../../../docs/metrics.md'), 'utf8');
  const rows = new Map<string, { type: string; labels: string[] }>();
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const name = /^`([a-z][a-z0-9_]*)`$/.exec(cells[1] ?? '')?.[1];
    if (!name) continue;
    const labels = [...(cells[3] ?? '').matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    rows.set(name, { type: cells[2], labels });
  }
  return rows;
}

describe('the metric catalogue', () => {
  it('is the table of docs/metrics.md: every metric, with its type and labels, and nothing else', () => {
    const docs = documented();
    const fromCode = Object.fromEntries(
      (Object.keys(METRICS) as MetricName[]).map((n) => [n, { type: METRICS[n].type, labels: [...METRICS[n].labels] }]),
    );
    expect(Object.fromEntries(docs)).toEqual(fromCode);
  });

  it('names metrics the Prometheus way and labels nothing after a user, a document or a path', () => {
    for (const [name, spec] of Object.entries(METRICS)) {
      expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
      if (spec.type === 'counter') expect(name).toMatch(/_total$/);
      for (const label of spec.labels) expect(label).not.toMatch(/user|citizen|document|path|url|thread|message|reference/);
    }
  });

  it('gives every service the HTTP metrics, the services with a database the event metrics, and the gateway none of them', () => {
    expect(metricsOf('gateway')).toEqual(expect.arrayContaining(['http_request_duration_seconds', 'dvd_rate_limit_rejections_total']));
    expect(metricsOf('gateway')).not.toContain('dvd_outbox_oldest_event_age_seconds');
    for (const service of ['intake', 'routing-engine', 'communication', 'export-worker'] as const)
      expect(metricsOf(service)).toEqual(expect.arrayContaining(['http_request_duration_seconds', 'dvd_outbox_oldest_event_age_seconds']));
    expect(metricsOf('export-worker')).toContain('dvd_export_oldest_pending_age_seconds');
    expect(metricsOf('intake')).not.toContain('dvd_export_oldest_pending_age_seconds');
  });
});
