import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { BenchContext, BenchResult, S3Target } from './types';
import { MiB, mapLimit, ratio, round, tally } from './util';

interface Run {
  mibPerS: number;
  ms: number;
  failures: string[];
}

async function timed(count: number, concurrency: number, bytes: number, one: (i: number) => Promise<string | null>): Promise<Run> {
  const started = performance.now();
  const failures = (
    await mapLimit(
      Array.from({ length: count }, (_, i) => i),
      concurrency,
      one,
    )
  ).filter((f): f is string => f !== null);
  const ms = performance.now() - started;
  return { ms, failures, mibPerS: ((count - failures.length) * bytes) / MiB / (ms / 1000) };
}

function s3Client(s3: S3Target): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * Upload throughput through the whole platform (gateway → intake → S3, plus the row and
 * the event) against a plain PutObject of the same bytes to the same S3 store:
 * sequential and with concurrency 10.
 */
export async function benchUploadThroughput(ctx: BenchContext): Promise<BenchResult[]> {
  const b = 'throughput';
  const count = ctx.scaled(20, 3);
  const jwe = await ctx.makeJwe(5 * MiB);
  const sizeNote = `${count} × ${(jwe.length / MiB).toFixed(2)} MiB`;
  const token = await ctx.token({ role: 'citizen', sub: `bench-throughput-${randomUUID().slice(0, 8)}` });
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const s3 = ctx.direct ? s3Client(ctx.direct.s3) : null;
  const results: BenchResult[] = [];

  try {
    // warm-up, not counted: connections, JIT, the SDK's lazy initialisation
    await ctx.upload({ token, jwe, agent, referenceNumber: 'BENCH-TP-WARMUP' });
    await s3?.send(new PutObjectCommand({ Bucket: ctx.direct!.s3.bucket, Key: `bench-direct/${randomUUID()}`, Body: jwe }));
    for (const concurrency of [1, 10]) {
      const label = concurrency === 1 ? 'sequential' : `concurrency ${concurrency}`;
      ctx.log(`throughput: ${sizeNote} ${label}, gateway then direct S3`);
      const gateway = await timed(count, concurrency, jwe.length, async (i) => {
        const r = await ctx.upload({ token, jwe, agent, referenceNumber: `BENCH-TP-${concurrency}-${i}` });
        return r.status === 201 ? null : `${r.status} ${r.error ?? ''}`.trim();
      });
      results.push({
        benchmark: b,
        metric: `gateway upload ${label}`,
        value: round(gateway.mibPerS),
        unit: 'MiB/s',
        note: `${sizeNote}, ${round(gateway.ms)} ms${gateway.failures.length ? `; failed: ${tally(gateway.failures)}` : ''}`,
      });
      if (!s3 || !ctx.direct) {
        results.push({
          benchmark: b,
          metric: `direct S3 PUT ${label}`,
          value: null,
          note: 'skipped: no direct access (BENCH_GATEWAY_URL)',
        });
        continue;
      }
      const bucket = ctx.direct.s3.bucket;
      const direct = await timed(count, concurrency, jwe.length, async () => {
        try {
          await s3.send(
            new PutObjectCommand({ Bucket: bucket, Key: `bench-direct/${randomUUID()}`, Body: jwe, ContentType: 'application/jose' }),
          );
          return null;
        } catch (err) {
          return (err as Error).name ?? String(err);
        }
      });
      results.push(
        {
          benchmark: b,
          metric: `direct S3 PUT ${label}`,
          value: round(direct.mibPerS),
          unit: 'MiB/s',
          note: `${sizeNote}, ${round(direct.ms)} ms${direct.failures.length ? `; failed: ${tally(direct.failures)}` : ''}`,
        },
        { benchmark: b, metric: `gateway ÷ direct ${label}`, value: ratio(gateway.mibPerS, direct.mibPerS), unit: '×' },
      );
    }
  } finally {
    agent.destroy();
    s3?.destroy();
  }
  return results;
}
