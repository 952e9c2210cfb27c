import { randomBytes, randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { directS3Client } from './direct-s3';
import { uploadDocument } from './http';
import { PATH_NAMES, ReferencePipeline, referenceRatioRows, startReferencePipeline } from './reference/pipeline';
import type { BenchContext, BenchResult, UploadOutcome } from './types';
import { MiB, median, percentile, round, sleep, tally } from './util';
import { PathCpu, cpuBoundRows, gcResult, sharedCpuRow, stallResults, storePids, watchGc, watchStalls } from './watch';

const ROUTED_OR_LATER = new Set(['ROUTED', 'ASSIGNED', 'EXPORTED']);
const STALL_GOAL_MS = 50;

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

interface BurstRun {
  ms: number[];
  wallMs: number;
  errors: UploadOutcome[];
  ids: string[];
}

/**
 * All uploads at once through the gateway (or, with `apiUrl`, through the reference
 * pipeline), one citizen each, each on a connection of its own.
 */
async function burst(ctx: BenchContext, tokens: string[], jwe: Buffer, tag: string, apiUrl?: string): Promise<BurstRun> {
  const agent = new Agent({ keepAlive: false, maxSockets: tokens.length + 8 });
  const started = performance.now();
  const outcomes = await Promise.all(
    tokens.map((token, i) => {
      const o = { token, jwe, agent, referenceNumber: `BENCH-BURST-${tag}-${i}`, timeoutMs: 300_000 };
      return apiUrl ? uploadDocument(apiUrl, ctx.authority.id, o) : ctx.upload(o);
    }),
  );
  const wallMs = performance.now() - started;
  agent.destroy();
  return {
    ms: outcomes.map((o) => o.ms),
    wallMs,
    errors: outcomes.filter((o) => o.status !== 201),
    ids: outcomes.filter((o) => o.status === 201).map((o) => o.id!),
  };
}

/** The same PUTs straight to the store: the anchor. */
async function directBurst(ctx: BenchContext, n: number, jwe: Buffer): Promise<BurstRun> {
  const s3 = ctx.direct!.s3;
  const client = directS3Client(s3, { maxSockets: n + 8, keepAlive: false });
  const started = performance.now();
  try {
    const outcomes = await Promise.all(
      Array.from({ length: n }, async () => {
        const t0 = performance.now();
        try {
          await client.send(
            new PutObjectCommand({ Bucket: s3.bucket, Key: `bench-direct/${randomUUID()}`, Body: jwe, ContentType: 'application/jose' }),
          );
          return { status: 201, ms: performance.now() - t0 } as UploadOutcome;
        } catch (err) {
          return { status: 0, ms: performance.now() - t0, error: (err as Error).name } as UploadOutcome;
        }
      }),
    );
    return {
      ms: outcomes.map((o) => o.ms),
      wallMs: performance.now() - started,
      errors: outcomes.filter((o) => o.status !== 201),
      ids: [],
    };
  } finally {
    client.destroy();
  }
}

/**
 * N concurrent 1 MiB uploads through the gateway, each by a different citizen, all
 * started at once, against the same N PUTs of the same bytes straight to the S3 store, in
 * the same run (alternating which goes first): the p95 of each and their ratio, every
 * service's longest event-loop stall during the platform's bursts, and at the end the
 * time until every accepted upload is ROUTED.
 */
export async function benchConcurrentUploads(ctx: BenchContext): Promise<BenchResult[]> {
  const b = 'uploads';
  const n = ctx.scaled(500, 5);
  const size = 1 * MiB;
  ctx.log(`uploads: minting ${n} citizen tokens`);
  const run = randomBytes(3).toString('hex');
  const tokens = await ctx.tokens(Array.from({ length: n }, (_, i) => ({ role: 'citizen' as const, sub: `bench-burst-${run}-${i}` })));
  const jwe = await ctx.makeJwe(size);
  const sizeNote = `${n} × ${(jwe.length / MiB).toFixed(2)} MiB, all at once`;

  const platform: BurstRun[] = [];
  const reference: BurstRun[] = [];
  const direct: BurstRun[] = [];
  const stalls: Array<Record<string, number | null>> = [];
  const referenceStalls: Array<Record<string, number | null>> = [];
  const gc: Array<Record<string, number | null>> = [];
  const paths = new PathCpu(ctx);
  const { cpu, kernel, shared, storeThread } = paths;
  const pipeline: ReferencePipeline | null = await startReferencePipeline(ctx);
  const started = performance.now();
  try {
    // warm-up, not counted: a few uploads each way (JIT, the reference processes start cold)
    const few = tokens.slice(0, Math.min(20, n));
    const warm = [await burst(ctx, few, jwe, 'warm-up')];
    if (pipeline) warm.push(await burst(ctx, few, jwe, 'ref-warm-up', pipeline.apiUrl));
    const failed = warm.flatMap((w) => w.errors);
    if (failed.length) throw new Error(`warm-up uploads failed: ${tally(failed.map((e) => e.error ?? String(e.status)))}`);
    platform.push({ ...warm[0], ms: [] }); // its documents must be ROUTED too; its timings are not counted
    for (let rep = 1; rep <= ctx.reps; rep++) {
      const order = rep % 2 ? (['platform', 'reference', 'direct'] as const) : (['direct', 'reference', 'platform'] as const);
      for (const who of order) {
        if (who !== 'platform' && !pipeline) continue; // no direct access to the store (BENCH_GATEWAY_URL)
        ctx.log(`uploads: repetition ${rep}/${ctx.reps}: ${sizeNote} ${PATH_NAMES[who]}`);
        if (who === 'platform') {
          const watch = await watchStalls(ctx);
          const gcWatch = await watchGc(ctx);
          platform.push(await paths.measure('platform', () => burst(ctx, tokens, jwe, `${rep}`)));
          stalls.push(await watch.stop());
          gc.push(await gcWatch.stop());
        } else if (who === 'reference') {
          await pipeline!.lag();
          reference.push(
            await paths.measure('reference', () => burst(ctx, tokens, jwe, `ref-${rep}`, pipeline!.apiUrl), pipeline!.pidsWithStore()),
          );
          referenceStalls.push(await pipeline!.lag());
        } else {
          direct.push(await paths.measure('direct', () => directBurst(ctx, n, jwe), storePids(ctx)));
        }
        await sleep(1000); // let the routing of the burst settle a little before the next
      }
    }
    if (ctx.profiler && pipeline) {
      ctx.log(`uploads: one more burst through the reference pipeline, profiled`);
      await ctx.profiler.profile('reference-burst', pipeline.pidsWithStore(), () =>
        burst(ctx, tokens, jwe, 'ref-profiled', pipeline.apiUrl),
      );
    }
  } finally {
    await pipeline?.stop();
  }
  const uploadedMs = performance.now() - started;
  if (ctx.profiler) {
    ctx.log(`uploads: one more burst, profiled`);
    const pids = { gateway: ctx.pidOf('gateway'), intake: ctx.pidOf('intake'), 'local-s3': ctx.pidOf('local-s3') };
    const profiled = await ctx.profiler.profile('uploads-burst', pids, () => burst(ctx, tokens, jwe, 'profiled'));
    platform.push({ ...profiled, ms: [] }); // its documents must be ROUTED too; its timings are not counted
  }

  const errors = platform.flatMap((r) => r.errors);
  const p = (runs: BurstRun[], q: number) => runs.filter((r) => r.ms.length).map((r) => round(percentile(r.ms, q)));
  const p95Platform = p(platform, 95);
  const p95Direct = p(direct, 95);
  const ratios = p95Direct.map((d, i) => round(p95Platform[i] / d));
  const results: BenchResult[] = [
    { benchmark: b, metric: 'uploads per repetition', value: n, unit: 'uploads', note: `${sizeNote}; ${ctx.reps} repetitions` },
    {
      benchmark: b,
      metric: 'errors (non-201)',
      value: errors.length,
      unit: 'uploads',
      goal: { op: '==', target: 0 },
      note: errors.length ? `${tally(errors.map((e) => e.status))}; ${tally(errors.map((e) => e.error ?? '?')).slice(0, 200)}` : undefined,
    },
    { benchmark: b, metric: 'platform p50', value: round(median(p(platform, 50))), unit: 'ms', reps: p(platform, 50) },
    { benchmark: b, metric: 'platform p95', value: round(median(p95Platform)), unit: 'ms', reps: p95Platform },
    { benchmark: b, metric: 'platform p99', value: round(median(p(platform, 99))), unit: 'ms', reps: p(platform, 99) },
  ];
  if (direct.length) {
    const p95Reference = p(reference, 95);
    const failed = (runs: BurstRun[]) =>
      runs.some((d) => d.errors.length)
        ? `failed: ${tally(runs.flatMap((d) => d.errors.map((e) => e.error ?? String(e.status))))}`
        : undefined;
    results.push(
      {
        benchmark: b,
        metric: 'reference pipeline p95',
        value: round(median(p95Reference)),
        unit: 'ms',
        reps: p95Reference,
        note: failed(reference) ?? 'reference gateway → reference intake → store (tools/bench/reference/)',
      },
      ...referenceRatioRows(b, 'p95 ', { platform: p95Platform, reference: p95Reference, direct: p95Direct }),
      {
        benchmark: b,
        metric: 'direct PUT p95',
        value: round(median(p95Direct)),
        unit: 'ms',
        reps: p95Direct,
        note: failed(direct),
      },
      {
        benchmark: b,
        metric: 'p95 platform ÷ direct PUT',
        value: round(median(ratios)),
        unit: '×',
        reps: ratios,
        goal: { op: '<=', target: 1.5 },
      },
    );
  }
  // where the CPU of a burst goes, per upload: the floor under its p95 on shared cores
  for (const path of ['platform', 'reference', 'direct'] as const) {
    const runs = cpu[path];
    if (!runs.length) continue;
    const perUpload = (name: string) => round(median(runs.map((r) => (r[name] ?? 0) / n)));
    const inKernel = (name: string) => round(median(kernel[path].map((r) => (r[name] ?? 0) / n)));
    const names = Object.keys(runs[0]).filter((name) => runs.some((r) => (r[name] ?? 0) / n >= 0.05));
    const total = round(median(runs.map((r) => Object.values(r).reduce((a, v) => a + v, 0) / n)));
    results.push({
      benchmark: b,
      metric: `CPU per upload, ${PATH_NAMES[path]}`,
      value: total,
      unit: 'ms',
      note: `${names.map((name) => `${name} ${perUpload(name)} (kernel ${inKernel(name)})`).join(', ')}`,
      details: { cpuMs: runs, kernelMs: kernel[path] },
    });
    const services = sharedCpuRow(b, `CPU per upload in Postgres, RabbitMQ and Redis, ${PATH_NAMES[path]}`, shared[path], n);
    if (services) results.push(services);
  }
  const wallMs = (runs: BurstRun[]) => runs.filter((r) => r.ms.length).map((r) => r.wallMs); // not the warm-up or the profiled burst
  results.push(
    ...cpuBoundRows(
      b,
      'burst',
      cpu,
      shared,
      { platform: wallMs(platform), reference: wallMs(reference), direct: wallMs(direct) },
      storeThread,
    ),
  );
  results.push(...gcResult(b, 'garbage collection during a burst', gc));
  results.push(...stallResults(b, stalls, { op: '<', target: STALL_GOAL_MS }));
  // the same figure of the reference processes during their bursts: what the load alone does
  results.push(...stallResults(b, referenceStalls));

  const pending = new Set(platform.flatMap((r) => r.ids));
  const accepted = pending.size;
  const waitMs = Math.max(60_000, n * 400);
  const deadline = Date.now() + waitMs;
  ctx.log(`uploads: waiting until ${accepted} accepted documents are ROUTED`);
  while (pending.size > 0 && Date.now() < deadline) {
    for (const id of await routedAmong(ctx, pending)) pending.delete(id);
    if (pending.size > 0) await sleep(250);
  }
  const routedMs = performance.now() - started;
  results.push({
    benchmark: b,
    metric: 'accepted but not ROUTED',
    value: pending.size,
    unit: 'documents',
    goal: { op: '==', target: 0 },
    note:
      pending.size === 0
        ? `all ${accepted} ROUTED ${round(routedMs - uploadedMs)} ms after the last burst`
        : `${pending.size} of ${accepted} still not ROUTED ${Math.round(waitMs / 1000)} s after the last burst`,
  });
  return results;
}
