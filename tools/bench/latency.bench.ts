import autocannon from 'autocannon';
import { signedHeaders } from '@dvd/testing';
import type { BenchContext, BenchResult } from './types';
import { ratio, round } from './util';

const CONNECTIONS = 50;

async function load(
  url: string,
  headers: Record<string, string> | (() => Record<string, string>),
  durationS: number,
): Promise<autocannon.Result> {
  // signed identity headers are good for one request each: then they are made per request
  const perRequest =
    typeof headers === 'function'
      ? { requests: [{ method: 'GET' as const, setupRequest: (req: autocannon.Request) => ({ ...req, headers: headers() }) }] }
      : { headers };
  // warm-up (JIT, connection pools, caches), not counted
  await autocannon({ url, ...perRequest, connections: CONNECTIONS, duration: 1 });
  return autocannon({ url, ...perRequest, connections: CONNECTIONS, duration: durationS, timeout: 10 });
}

/**
 * Authenticated `GET /api/v1/documents/{id}` through the gateway (JWT verification,
 * rate limiter, identity stamping, proxy) against the same request sent straight to
 * intake with signed identity headers: what the gateway costs per request.
 */
export async function benchGatewayLatency(ctx: BenchContext): Promise<BenchResult[]> {
  const b = 'latency';
  const { documentId, citizenSub, citizenToken } = ctx.authority.sample;
  const path = `/api/v1/documents/${documentId}`;
  const durationS = Math.min(60, Math.max(3, Math.round(10 * ctx.scale)));
  const row = (r: autocannon.Result, who: string): BenchResult[] => {
    const failures = r.non2xx + r.errors + r.timeouts;
    return [
      {
        benchmark: b,
        metric: `${who} req/s`,
        value: round(r.requests.average),
        unit: 'req/s',
        note: `${CONNECTIONS} conns, ${durationS} s`,
      },
      { benchmark: b, metric: `${who} p50`, value: round(r.latency.p50), unit: 'ms' },
      {
        benchmark: b,
        metric: `${who} p99`,
        value: round(r.latency.p99),
        unit: 'ms',
        details: { latency: r.latency, requests: r.requests },
      },
      {
        benchmark: b,
        metric: `${who} non-2xx/errors`,
        value: failures,
        unit: 'requests',
        note: `of ${r.requests.total} (non2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts})`,
      },
    ];
  };

  ctx.log(`latency: GET ${path} through the gateway, ${durationS} s × ${CONNECTIONS} connections`);
  const viaGateway = await load(`${ctx.gatewayUrl}${path}`, { authorization: `Bearer ${citizenToken}` }, durationS);
  const results = row(viaGateway, 'gateway');
  if (!ctx.direct) {
    results.push({ benchmark: b, metric: 'intake direct', value: null, note: 'skipped: no direct access (BENCH_GATEWAY_URL)' });
    return results;
  }

  ctx.log(`latency: the same request straight to intake with signed identity headers (signed per request, as the gateway does)`);
  const keys = ctx.direct.identityKeys;
  const headers = () => signedHeaders({ userId: citizenSub, role: 'citizen' }, 'GET', path, { keys });
  const direct = await load(`${ctx.direct.serviceUrl('intake')}${path}`, headers, durationS);
  results.push(...row(direct, 'intake direct'));
  results.push(
    { benchmark: b, metric: 'req/s gateway ÷ direct', value: ratio(viaGateway.requests.average, direct.requests.average), unit: '×' },
    { benchmark: b, metric: 'p99 gateway ÷ direct', value: ratio(viaGateway.latency.p99, direct.latency.p99), unit: '×' },
  );
  return results;
}
