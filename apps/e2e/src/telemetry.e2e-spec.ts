import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { METRICS, SERVICES, metricsOf } from '@dvd/contracts';
import { documentUpload, encryptCompact, makeEncryptionKey, pollUntil } from '@dvd/testing';
import { RunningPlatform, gatewayClient, startPlatform } from './platform-process';

/** A span as OTLP/HTTP JSON carries it (ids in hex), with the service.name of its resource. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}
const SPAN_KIND = { server: 2, client: 3, producer: 4, consumer: 5 } as const;

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: OtlpValue }> };
    scopeSpans?: Array<{
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: Array<{ key: string; value: OtlpValue }>;
      }>;
    }>;
  }>;
}
const valueOf = (v: OtlpValue) => v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue;

/** A tiny OTLP/HTTP JSON collector: what the services export to `OTEL_EXPORTER_OTLP_ENDPOINT`. */
async function startCollector() {
  const spans: ReceivedSpan[] = [];
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        const text = Buffer.concat(chunks).toString('utf8');
        bodies.push(text);
        for (const rs of (JSON.parse(text) as OtlpExport).resourceSpans ?? []) {
          const service = String(valueOf(rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value ?? {}) ?? '');
          for (const ss of rs.scopeSpans ?? [])
            for (const s of ss.spans ?? [])
              spans.push({
                service,
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId || undefined,
                name: s.name,
                kind: s.kind,
                attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, valueOf(a.value)])),
              });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    bodies,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** The value of one series of a scraped page: the first sample of `name` with these labels (any order, others allowed). */
function sampleOf(page: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const line = page
    .split('\n')
    .find(
      (l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

/** The authority's e-file system: accepts every export. */
async function startReceiver() {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"eAkteId":"EA-1"}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/**
 * Tracing and metrics of the running platform (issue #18, ADR 0023, docs/metrics.md): every
 * service exports its spans over OTLP to a collector in this test; one upload is one trace
 * from the gateway through intake, the outbox and the broker to routing-engine and
 * communication; log lines carry its trace id; and after an upload, claim and export every
 * service serves every metric of the catalogue.
 */
describe('telemetry: one trace per upload across the broker, trace ids in the logs, every metric served', () => {
  let p: RunningPlatform;
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let documentId: string;
  let citizen: string;
  const referenceNumber = `TEL-${randomBytes(4).toString('hex')}/2026`;

  beforeAll(async () => {
    [collector, receiver] = await Promise.all([startCollector(), startReceiver()]);
    p = await startPlatform({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    const call = gatewayClient(p.gateway);
    const platformAdmin = await p.token({ role: 'platform-admin', authority: 'platform' });
    const admin = await p.token({ role: 'admin', authority: 'amt-t' });
    citizen = await p.token({ role: 'citizen', sub: 'erika' });
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    expect(
      (
        await call(platformAdmin, 'POST', '/authorities', {
          id: 'amt-t',
          name: 'Amt T',
          ingestUrl: receiver.url,
          ingestSecret: secret,
          retentionPeriod: 'P30D',
        })
      ).status,
    ).toBe(201);
    expect((await call(admin, 'POST', '/authorities/amt-t/units', { id: 'post', name: 'Post' })).status).toBe(201);
    const key = await makeEncryptionKey('amt-t-1');
    expect((await call(admin, 'POST', '/authorities/amt-t/keys', key.publicJwk)).status).toBe(201);
    const { body, contentType } = documentUpload(
      { referenceNumber, authorityId: 'amt-t', documentType: 'ANTRAG' },
      await encryptCompact(key, 64 * 1024),
    );
    // intake learns the authority's keys from events: the upload succeeds once they reached it
    const created = await pollUntil(
      async () => {
        const r = await call(citizen, 'POST', '/documents', body, { 'content-type': contentType });
        return r.status === 201 ? r : null;
      },
      { what: 'upload accepted' },
    );
    documentId = created.body.id as string;
  }, 180_000);

  afterAll(async () => {
    await p?.stop();
    collector?.close();
    receiver?.close();
  });

  /** The upload's trace: the one routing-engine handled the document's document.received in. */
  const uploadTrace = () =>
    collector.spans.find((s) => s.name === 'handle document.received' && s.attributes['dvd.document.id'] === documentId)?.traceId;
  const spansOf = (traceId: string) => collector.spans.filter((s) => s.traceId === traceId);

  it('follows one upload in one trace: gateway → intake → outbox → broker → routing-engine → communication', async () => {
    const traceId = await pollUntil(
      async () => {
        const id = uploadTrace();
        if (!id) return null;
        const spans = spansOf(id);
        const byId = new Map(spans.map((s) => [s.spanId, s]));
        // complete: communication handled both the upload's document.received and routing-engine's
        // document.routed, and intake handled document.routed too (its span may be exported last)
        const publishers = (service: string) =>
          new Set(
            spans.filter((s) => s.service === service && s.kind === SPAN_KIND.consumer).map((s) => byId.get(s.parentSpanId ?? '')?.service),
          );
        const communication = publishers('communication');
        return communication.has('intake') && communication.has('routing-engine') && publishers('intake').has('routing-engine') ? id : null;
      },
      {
        what: 'the spans of the upload from every service',
        timeoutMs: 30_000,
        intervalMs: 200,
        diagnose: async () => {
          const id = uploadTrace();
          return id
            ? spansOf(id)
                .map((s) => `${s.service}:${s.name}`)
                .join(', ')
            : `no trace found among ${collector.spans.length} spans`;
        },
      },
    );
    const spans = spansOf(traceId);
    const byId = new Map(spans.map((s) => [s.spanId, s]));

    // one root: the gateway's server span of the upload (it continues no client context)
    const roots = spans.filter((s) => !s.parentSpanId);
    expect(roots.map((s) => [s.service, s.kind, s.attributes['http.request.method'], s.attributes['url.path']])).toEqual([
      ['gateway', SPAN_KIND.server, 'POST', '/api/v1/documents'],
    ]);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['gateway', 'intake', 'routing-engine', 'communication']));

    // intake's server span is a child of the gateway's proxied call
    const intakeServer = spans.find((s) => s.service === 'intake' && s.kind === SPAN_KIND.server)!;
    expect(byId.get(intakeServer.parentSpanId!)).toMatchObject({ service: 'gateway', kind: SPAN_KIND.client });

    // across the broker: every consumer span's parent is a producer span of the publishing service
    const consumers = spans.filter((s) => s.kind === SPAN_KIND.consumer);
    const hops = consumers.map((c) => {
      const producer = byId.get(c.parentSpanId ?? '');
      return `${producer?.service}/${producer?.kind === SPAN_KIND.producer ? 'producer' : producer?.name} → ${c.service}`;
    });
    expect(hops).toEqual(
      expect.arrayContaining([
        'intake/producer → routing-engine',
        'intake/producer → communication',
        'routing-engine/producer → communication',
        'routing-engine/producer → intake',
      ]),
    );
    // each handler runs in a child of its consumer span
    const handlers = spans.filter((s) => s.name.startsWith('handle '));
    for (const h of handlers) expect(byId.get(h.parentSpanId ?? '')).toMatchObject({ service: h.service, kind: SPAN_KIND.consumer });
    expect(handlers.map((h) => `${h.service}:${h.name}`)).toEqual(
      expect.arrayContaining([
        'routing-engine:handle document.received',
        'communication:handle document.received',
        'communication:handle document.routed',
        'intake:handle document.routed',
      ]),
    );
    // and the state changes inside are there, as children (the routing decision's SQL)
    expect(spans.some((s) => s.service === 'routing-engine' && s.attributes['db.system.name'] === 'postgresql')).toBe(true);
  });

  it('writes the trace id into the log lines written for the upload', async () => {
    const traceId = await pollUntil(async () => uploadTrace(), { what: 'the upload trace', timeoutMs: 30_000 });
    const lines = p
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { service?: string; msg?: string; trace_id?: string; span_id?: string; documentId?: string });
    const received = lines.find((l) => l.service === 'intake' && l.msg === 'document received' && l.documentId === documentId);
    expect(received).toMatchObject({ trace_id: traceId, span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const routed = lines.find((l) => l.service === 'routing-engine' && l.msg === 'document routed' && l.documentId === documentId);
    expect(routed?.trace_id).toBe(traceId);
    // every line written inside the trace carries it, the request lines of intake's own HTTP log included
    expect(lines.filter((l) => l.trace_id === traceId).length).toBeGreaterThan(2);
  });

  it("starts the trace at the gateway: a client's traceparent is neither continued nor passed on", async () => {
    const clientTrace = randomBytes(16).toString('hex');
    const path = `/api/v1/documents/${randomUUID()}`;
    const res = await fetch(`${p.gateway}${path}`, {
      headers: {
        authorization: `Bearer ${citizen}`,
        traceparent: `00-${clientTrace}-${randomBytes(8).toString('hex')}-01`,
        baggage: 'k=v',
      },
    });
    expect(res.status).toBe(404);
    const [gatewaySpan, intakeSpan] = await pollUntil(
      async () => {
        const g = collector.spans.find((s) => s.service === 'gateway' && s.kind === SPAN_KIND.server && s.attributes['url.path'] === path);
        const i = collector.spans.find((s) => s.service === 'intake' && s.kind === SPAN_KIND.server && s.attributes['url.path'] === path);
        return g && i ? [g, i] : null;
      },
      { what: 'the spans of the request', timeoutMs: 30_000 },
    );
    expect(gatewaySpan.parentSpanId).toBeUndefined();
    expect(gatewaySpan.traceId).not.toBe(clientTrace);
    expect(intakeSpan.traceId).toBe(gatewaySpan.traceId);
    expect(collector.spans.filter((s) => s.traceId === clientTrace)).toEqual([]);
  });

  it('exports nothing readable: no Aktenzeichen, no token, no query string in any span', async () => {
    const marker = `q${randomBytes(6).toString('hex')}`;
    expect((await gatewayClient(p.gateway)(citizen, 'GET', `/documents?limit=5&unitId=${marker}`)).status).toBe(200);
    const listed = await pollUntil(
      async () =>
        collector.spans.find(
          (s) =>
            s.service === 'intake' &&
            s.kind === SPAN_KIND.server &&
            s.attributes['url.path'] === '/api/v1/documents' &&
            s.attributes['http.request.method'] === 'GET',
        ),
      { what: 'the span of the listing', timeoutMs: 30_000 },
    );
    expect(listed.attributes['url.query']).toBe('REDACTED');
    const everything = collector.bodies.join('\n');
    const leaks = collector.spans.filter((sp) => JSON.stringify(sp).includes(marker));
    expect(leaks.map((sp) => `${sp.service}:${sp.name}:${JSON.stringify(sp.attributes)}`)).toEqual([]);
    expect(everything).not.toContain(marker);
    expect(everything.length).toBeGreaterThan(0);
    expect(everything).not.toContain(referenceNumber);
    expect(everything).not.toContain(citizen);
    expect(everything).not.toContain(citizen.split('.')[2]); // not even the token's signature
  });

  it('serves every metric of the catalogue on every service after an upload, a claim and an export', async () => {
    const call = gatewayClient(p.gateway);
    const official = await p.token({ role: 'official', authority: 'amt-t' });
    await pollUntil(async () => (await call(citizen, 'GET', `/documents/${documentId}`)).body.status === 'ROUTED', { what: 'ROUTED' });
    const thread = await call(citizen, 'POST', `/documents/${documentId}/threads`, { type: 'CHAT' });
    expect(thread.status).toBe(201);
    expect((await call(official, 'POST', `/threads/${thread.body.id as string}/claim`)).status).toBe(200);
    const requested = await call(official, 'POST', '/exports', { documentId });
    expect(requested.status).toBe(202);
    await pollUntil(async () => (await call(official, 'GET', `/exports/${requested.body.jobId as string}`)).body.status === 'COMPLETED', {
      what: 'export COMPLETED',
      timeoutMs: 30_000,
    });

    const scrape = async (service: (typeof SERVICES)[number]) => (await fetch(`http://127.0.0.1:${p.ports[service]}/metrics`)).text();
    const missing: string[] = [];
    const pages: Record<string, string> = {};
    for (const service of SERVICES) {
      const page = (pages[service] = await scrape(service));
      for (const name of metricsOf(service)) {
        const { type } = METRICS[name];
        const sample = type === 'histogram' ? `${name}_count` : name;
        const declared = page.includes(`\n# TYPE ${name} ${type}\n`);
        const sampled = new RegExp(`^${sample}(\\{[^}]*\\})? \\S+$`, 'm').test(page);
        if (!declared || !sampled) missing.push(`${service}: ${name}${declared ? ' (no sample)' : ''}`);
      }
    }
    expect(missing).toEqual([]);

    // RED by route template: the upload, the claim and the export are counted under their templates, in the gateway and the owner
    const count = (page: string, labels: string) =>
      page
        .split('\n')
        .filter((l) => l.startsWith('http_request_duration_seconds_count{') && labels.split(',').every((kv) => l.includes(kv)))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    for (const service of ['gateway', 'intake'] as const)
      expect(count(pages[service], 'method="POST",route="/api/v1/documents",status="2xx"')).toBeGreaterThanOrEqual(1);
    expect(count(pages.gateway, 'method="POST",route="/api/v1/threads/{id}/claim",status="2xx"')).toBe(1);
    expect(count(pages.communication, 'method="POST",route="/api/v1/threads/{id}/claim",status="2xx"')).toBe(1);
    expect(count(pages.gateway, 'method="GET",route="/api/v1/exports/{jobId}"')).toBeGreaterThanOrEqual(1);
    expect(count(pages['export-worker'], 'method="POST",route="/api/v1/exports",status="2xx"')).toBe(1);
    // services calling services: internal routes by template as well
    expect(count(pages.intake, 'route="/internal/documents/{id}"')).toBeGreaterThanOrEqual(1);
    for (const page of Object.values(pages)) {
      const routes = [...page.matchAll(/route="([^"]*)"/g)].map((m) => m[1]);
      expect(routes.filter((r) => r === 'unmatched' || /[0-9a-f]{8}-[0-9a-f]{4}-/.test(r) || r.includes('?'))).toEqual([]);
    }

    // and the business metrics moved
    expect(sampleOf(pages.intake, 'dvd_documents_received_total')).toBeGreaterThanOrEqual(1);
    expect(sampleOf(pages['routing-engine'], 'dvd_documents_routed_total')).toBeGreaterThanOrEqual(1);
    expect(sampleOf(pages['export-worker'], 'dvd_export_attempts_total', { outcome: 'delivered' })).toBe(1);
    expect(sampleOf(pages.intake, 'dvd_events_published_total', { event_type: 'document.received' })).toBeGreaterThanOrEqual(1);
    expect(
      sampleOf(pages['routing-engine'], 'dvd_events_consumed_total', {
        queue: 'routing-engine.events',
        event_type: 'document.received',
        outcome: 'applied',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleOf(pages['routing-engine'], 'dvd_dead_letters', { queue: 'routing-engine.events' })).toBe(0);
  });
});
