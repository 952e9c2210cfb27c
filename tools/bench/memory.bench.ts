import { randomUUID } from 'node:crypto';
import type { BenchContext, BenchResult } from './types';
import { MiB, round, sleep } from './util';
import { platformPids } from './watch';

/**
 * Peak RSS growth of every platform process (the store included) during one large upload (sampled every
 * 50 ms from /proc/<pid>/status): streaming should keep it flat whatever the size.
 * 95 MiB stays below the default MAX_UPLOAD_BYTES (100 MiB).
 */
export async function benchUploadMemory(ctx: BenchContext): Promise<BenchResult[]> {
  const b = 'memory';
  const pids = platformPids(ctx);
  if (Object.keys(pids).length === 0) {
    return [{ benchmark: b, metric: 'peak RSS growth', value: null, note: 'skipped: the PIDs of the platform processes are unknown' }];
  }
  const token = await ctx.token({ role: 'citizen', sub: `bench-memory-${randomUUID().slice(0, 8)}` });
  const results: BenchResult[] = [];
  // warm-up, not measured: a fresh process allocates buffers and compiles on its first large upload
  await ctx.upload({ token, jwe: await ctx.makeJwe(5 * MiB), referenceNumber: 'BENCH-MEM-WARMUP' });

  for (const sizeMiB of [50, 95]) {
    const jwe = await ctx.makeJwe(sizeMiB * MiB);
    ctx.log(`memory: one ${(jwe.length / MiB).toFixed(1)} MiB upload through the gateway, sampling RSS of ${Object.keys(pids).join(', ')}`);
    await sleep(500); // let the bench's own allocation settle; the services idle
    const sampler = ctx.rssSampler(pids, 50);
    const outcome = await ctx.upload({ token, jwe, referenceNumber: `BENCH-MEM-${sizeMiB}`, timeoutMs: 300_000 });
    await sleep(250);
    const figures = sampler.stop();
    results.push({
      benchmark: b,
      metric: `${sizeMiB} MiB upload`,
      value: outcome.status === 201 ? round(jwe.length / MiB / (outcome.ms / 1000)) : null,
      unit: 'MiB/s',
      note: `status ${outcome.status}${outcome.error ? ` (${outcome.error})` : ''}, ${round(outcome.ms)} ms, ${sampler.sampleCount} samples`,
    });
    for (const [app, f] of Object.entries(figures)) {
      results.push({
        benchmark: b,
        metric: `${sizeMiB} MiB: ${app} RSS growth`,
        value: round(f.growthMiB),
        unit: 'MiB',
        note: `baseline ${round(f.baselineMiB)} MiB, peak ${round(f.peakMiB)} MiB (pid ${pids[app]})`,
        details: f,
      });
    }
  }
  return results;
}
