import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { directS3Client } from './direct-s3';
import { uploadDocument } from './http';
import { PATH_NAMES, referenceRatioRows, startReferencePipeline } from './reference/pipeline';
import type { BenchContext, BenchResult, RssFigures } from './types';
import { MiB, median, round, sleep } from './util';
import { PathCpu, cpuBoundRows, gcResult, sharedCpuRow, stallResults, storePids, watchGc, watchStalls, withRss } from './watch';

const SIZE = 50 * MiB;
const RSS_GOAL_MIB = 64;
const STALL_GOAL_MS = 50;

/**
 * One 50 MiB upload through the whole platform (gateway → intake → S3, the row and the
 * event) against one PUT of the same bytes straight to the same S3 store, in the same run
 * (alternating which goes first): MiB/s of each and their ratio; while the platform's
 * upload streams, the peak RSS growth of every process (the store included) and every
 * service's longest event-loop stall. Each figure is the median of the repetitions.
 */
export async function benchUploadThroughput(ctx: BenchContext): Promise<BenchResult[]> {
  const b = 'throughput';
  const jwe = await ctx.makeJwe(SIZE);
  const mib = jwe.length / MiB;
  const token = await ctx.token({ role: 'citizen', sub: `bench-throughput-${randomUUID().slice(0, 8)}` });
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const s3 = ctx.direct ? directS3Client(ctx.direct.s3) : null;
  const platform: number[] = [];
  const reference: number[] = [];
  const direct: number[] = [];
  const referenceStalls: Array<Record<string, number | null>> = [];
  const rss: Array<Record<string, RssFigures>> = [];
  const stalls: Array<Record<string, number | null>> = [];
  const gc: Array<Record<string, number | null>> = [];
  const paths = new PathCpu(ctx);
  const { cpu, kernel, shared, storeThread } = paths;
  const pipeline = await startReferencePipeline(ctx);
  /** One upload through the gateway, or through the reference pipeline at `apiUrl`. */
  const upload = async (tag: string, apiUrl?: string, payload = jwe) => {
    const o = { token, jwe: payload, agent, referenceNumber: `BENCH-TP-${tag}`, timeoutMs: 300_000 };
    const r = await (apiUrl ? uploadDocument(apiUrl, ctx.authority.id, o) : ctx.upload(o));
    if (r.status !== 201) throw new Error(`the ${(payload.length / MiB).toFixed(1)} MiB upload failed: ${r.status} ${r.error ?? ''}`);
    return r.ms;
  };
  const put = async () => {
    const t0 = performance.now();
    await s3!.send(
      new PutObjectCommand({
        Bucket: ctx.direct!.s3.bucket,
        Key: `bench-direct/${randomUUID()}`,
        Body: jwe,
        ContentType: 'application/jose',
      }),
    );
    return performance.now() - t0;
  };

  try {
    // warm-up, not counted: connections, JIT, the SDK's lazy initialisation; small, so that
    // the first repetition shows what a large upload costs a process that never had one
    const small = await ctx.makeJwe(MiB);
    await upload('WARMUP', undefined, small);
    if (pipeline) await upload('WARMUP', pipeline.apiUrl, small);
    if (s3) await s3.send(new PutObjectCommand({ Bucket: ctx.direct!.s3.bucket, Key: `bench-direct/${randomUUID()}`, Body: small }));
    for (let rep = 1; rep <= ctx.reps; rep++) {
      const order = rep % 2 ? (['platform', 'reference', 'direct'] as const) : (['direct', 'reference', 'platform'] as const);
      for (const who of order) {
        await sleep(500); // the processes idle before each figure, RSS settles
        if (who === 'platform') {
          ctx.log(
            `throughput: repetition ${rep}/${ctx.reps}: one ${mib.toFixed(1)} MiB upload through the gateway (RSS of every process sampled)`,
          );
          const watch = await watchStalls(ctx);
          const gcWatch = await watchGc(ctx);
          const { result: ms, rss: figures } = await withRss(ctx, () => paths.measure('platform', () => upload(`${rep}`)));
          gc.push(await gcWatch.stop());
          stalls.push(await watch.stop());
          rss.push(figures);
          platform.push(mib / (ms / 1000));
        } else if (who === 'reference') {
          if (!pipeline) continue;
          ctx.log(`throughput: repetition ${rep}/${ctx.reps}: the same upload through the reference pipeline`);
          await pipeline.lag();
          const ms = await paths.measure('reference', () => upload(`ref-${rep}`, pipeline.apiUrl), pipeline.pidsWithStore());
          referenceStalls.push(await pipeline.lag());
          reference.push(mib / (ms / 1000));
        } else if (s3) {
          ctx.log(`throughput: repetition ${rep}/${ctx.reps}: the same bytes PUT straight to the store`);
          direct.push(mib / ((await paths.measure('direct', put, storePids(ctx))) / 1000));
        }
      }
    }
    if (ctx.profiler) {
      const pids = { gateway: ctx.pidOf('gateway'), intake: ctx.pidOf('intake'), 'local-s3': ctx.pidOf('local-s3') };
      await ctx.profiler.profile('upload-50mib', pids, () => upload('profiled'));
      if (s3) await ctx.profiler.profile('direct-put-50mib', { 'local-s3': pids['local-s3'] }, put);
      if (pipeline) await ctx.profiler.profile('reference-50mib', pipeline.pidsWithStore(), () => upload('ref-profiled', pipeline.apiUrl));
    }
  } finally {
    agent.destroy();
    s3?.destroy();
    await pipeline?.stop();
  }

  const note = `${mib.toFixed(1)} MiB, one at a time, ${ctx.reps} repetitions`;
  const results: BenchResult[] = [
    { benchmark: b, metric: 'platform upload', value: round(median(platform)), unit: 'MiB/s', reps: platform.map(round), note },
  ];
  if (direct.length) {
    const ratios = direct.map((d, i) => round(platform[i] / d));
    results.push(
      { benchmark: b, metric: 'direct PUT', value: round(median(direct)), unit: 'MiB/s', reps: direct.map(round) },
      {
        benchmark: b,
        metric: 'platform ÷ direct PUT',
        value: round(median(ratios)),
        unit: '×',
        reps: ratios,
        goal: { op: '>=', target: 0.7 },
      },
    );
    if (reference.length)
      results.push(
        {
          benchmark: b,
          metric: 'reference pipeline upload',
          value: round(median(reference)),
          unit: 'MiB/s',
          reps: reference.map(round),
          note: 'reference gateway → reference intake → store (tools/bench/reference/)',
        },
        ...referenceRatioRows(b, '', { platform, reference, direct }),
      );
  }
  for (const path of ['platform', 'reference', 'direct'] as const) {
    const runs = cpu[path];
    if (!runs.length) continue;
    const names = Object.keys(runs[0]).filter((name) => runs.some((r) => (r[name] ?? 0) >= 5));
    results.push({
      benchmark: b,
      metric: `CPU for the upload, ${PATH_NAMES[path]}`,
      value: round(median(runs.map((r) => Object.values(r).reduce((a, v) => a + v, 0)))),
      unit: 'ms',
      note: names
        .map(
          (name) =>
            `${name} ${round(median(runs.map((r) => r[name] ?? 0)))} (kernel ${round(median(kernel[path].map((r) => r[name] ?? 0)))})`,
        )
        .join(', '),
      details: { cpuMs: runs, kernelMs: kernel[path] },
    });
    const services = sharedCpuRow(b, `CPU for the upload in Postgres, RabbitMQ and Redis, ${PATH_NAMES[path]}`, shared[path], 1);
    if (services) results.push(services);
  }
  const durationMs = (rates: number[]) => rates.map((r) => (mib / r) * 1000);
  results.push(
    ...cpuBoundRows(
      b,
      'upload',
      cpu,
      shared,
      {
        platform: durationMs(platform),
        reference: durationMs(reference),
        direct: durationMs(direct),
      },
      storeThread,
    ),
  );

  results.push(...gcResult(b, 'garbage collection during the upload', gc));
  // a process keeps the pages of its first large upload: the first repetition shows the real
  // growth, later ones little, so the figure is the largest, not the median
  for (const name of Object.keys(rss[0] ?? {})) {
    const growth = rss.map((r) => round(r[name]?.growthMiB ?? Number.NaN));
    results.push({
      benchmark: b,
      metric: `peak RSS growth during the upload: ${name}`,
      value: round(Math.max(...growth)),
      unit: 'MiB',
      reps: growth,
      goal: { op: '<', target: RSS_GOAL_MIB },
      note: `largest of the repetitions; baseline ${round(rss[0][name].baselineMiB)} MiB`,
      details: rss.map((r) => r[name]),
    });
  }
  results.push(...stallResults(b, stalls, { op: '<', target: STALL_GOAL_MS }), ...stallResults(b, referenceStalls));
  return results;
}
