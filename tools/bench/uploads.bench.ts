import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import type { BenchContext, BenchResult, UploadOutcome } from './types';
import { MiB, percentile, round, sleep, tally } from './util';

const ROUTED_OR_LATER = new Set(['ROUTED', 'ASSIGNED', 'EXPORTED']);

/** Ids among `pending` that the authority's inbox shows as routed (pages through all of it). */
async function routedAmong(ctx: BenchContext, pending: Set<string>): Promise<string[]> {
  const found: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const q: string = `/documents?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await ctx.api<{ items?: Array<{ id: string; status: string }>; nextCursor?: string | null }>(
      ctx.authority.officialToken,
      'GET',
      q,
    );
    if (r.status !== 200) throw new Error(`GET ${q} as the official: ${r.status}`);
    for (const d of r.body.items ?? []) if (pending.has(d.id) && ROUTED_OR_LATER.has(d.status)) found.push(d.id);
    cursor = r.body.nextCursor ?? null;
    if (!cursor) break;
  }
  return found;
}

/**
 * N concurrent 1 MiB uploads through the gateway, each by a different citizen, all
 * started at once; then the time until every accepted one is ROUTED.
 */
export async function benchConcurrentUploads(ctx: BenchContext): Promise<BenchResult[]> {
  const b = 'uploads';
  const n = ctx.scaled(500, 5);
  const size = 1 * MiB;
  ctx.log(`uploads: minting ${n} citizen tokens`);
  const run = randomBytes(3).toString('hex');
  const tokens = await ctx.tokens(Array.from({ length: n }, (_, i) => ({ role: 'citizen' as const, sub: `bench-burst-${run}-${i}` })));
  const jwe = await ctx.makeJwe(size);
  const agent = new Agent({ keepAlive: false, maxSockets: n + 8 });

  ctx.log(`uploads: ${n} concurrent uploads of ${(jwe.length / MiB).toFixed(2)} MiB through the gateway`);
  const started = performance.now();
  const outcomes: UploadOutcome[] = await Promise.all(
    tokens.map((token, i) => ctx.upload({ token, jwe, agent, referenceNumber: `BENCH-BURST-${i}`, timeoutMs: 300_000 })),
  );
  const uploadedMs = performance.now() - started;
  agent.destroy();

  const ok = outcomes.filter((o) => o.status === 201);
  const errors = outcomes.filter((o) => o.status !== 201);
  const ms = outcomes.map((o) => o.ms);
  const results: BenchResult[] = [
    { benchmark: b, metric: 'uploads', value: n, unit: 'uploads', note: `${(jwe.length / MiB).toFixed(2)} MiB each, all at once` },
    {
      benchmark: b,
      metric: 'errors (non-201)',
      value: errors.length,
      unit: 'uploads',
      note: errors.length ? `${tally(errors.map((e) => e.status))}; ${tally(errors.map((e) => e.error ?? '?')).slice(0, 200)}` : undefined,
    },
    { benchmark: b, metric: 'latency p50', value: round(percentile(ms, 50)), unit: 'ms' },
    { benchmark: b, metric: 'latency p95', value: round(percentile(ms, 95)), unit: 'ms' },
    { benchmark: b, metric: 'latency p99', value: round(percentile(ms, 99)), unit: 'ms', note: `max ${round(Math.max(...ms))} ms` },
    {
      benchmark: b,
      metric: 'all responses',
      value: round(uploadedMs),
      unit: 'ms',
      note: `${round((ok.length * jwe.length) / MiB / (uploadedMs / 1000))} MiB/s accepted`,
    },
  ];

  const pending = new Set(ok.map((o) => o.id!));
  const waitMs = Math.max(60_000, n * 400);
  const deadline = Date.now() + waitMs;
  ctx.log(`uploads: waiting until ${pending.size} accepted documents are ROUTED`);
  while (pending.size > 0 && Date.now() < deadline) {
    for (const id of await routedAmong(ctx, pending)) pending.delete(id);
    if (pending.size > 0) await sleep(100);
  }
  const routedMs = performance.now() - started;
  results.push({
    benchmark: b,
    metric: `all ${ok.length} ROUTED after`,
    value: pending.size === 0 ? round(routedMs) : null,
    unit: 'ms',
    note:
      pending.size === 0
        ? `from the first request; ${round(routedMs - uploadedMs)} ms after the last response`
        : `${pending.size} still not ROUTED ${Math.round(waitMs / 1000)} s after the last response`,
  });
  return results;
}
