/**
 * The benchmarks `run.ts` knows, in the order they run. BENCH_ONLY selects by `name`.
 *
 * Adding one: write `tools/bench/<name>.bench.ts` exporting
 *   `export const benchSomething: Benchmark = async (ctx) => [...rows]`
 * (or a function declaration of that type) and list it here. Two are reserved for
 * features being built; their files are loaded only if they exist, so the bench runs
 * without them:
 *
 *   tools/bench/message-paging.bench.ts → `benchMessagePaging`: p50/p99 of paging a
 *     thread of 100 messages with 10 k and with 1 M messages in the table, plus the
 *     EXPLAIN (ANALYZE, BUFFERS) plan in `details` (ctx.direct.databaseUrl for seeding
 *     and EXPLAIN; the gateway for the timed requests).
 *   tools/bench/export.bench.ts → `benchExport`: export of a 50 MiB case with 1,000
 *     messages: time to done and the export worker's peak RSS
 *     (ctx.rssSampler({ 'export-worker': ctx.pidOf('export-worker')! })).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchGatewayCpu } from './gateway.bench';
import { benchGatewayLatency } from './latency.bench';
import { benchUploadMemory } from './memory.bench';
import { benchRealtime } from './realtime.bench';
import { benchSdk } from './sdk.bench';
import { benchUploadThroughput } from './throughput.bench';
import type { Benchmark } from './types';
import { benchConcurrentUploads } from './uploads.bench';

export interface BenchmarkEntry {
  name: string;
  description: string;
  /** Upper bound for one run at BENCH_SCALE=1; the run is abandoned (and reported as failed) beyond it. */
  timeoutMs: number;
  /** The function, or null when its file is not there (yet). */
  load(): Promise<Benchmark | null>;
}

const builtIn = (name: string, description: string, timeoutMs: number, fn: Benchmark): BenchmarkEntry => ({
  name,
  description,
  timeoutMs,
  load: async () => fn,
});

/** A benchmark in its own file next to this one (compiled to dist/tools/bench/<file>.js), loaded when present. */
const optional = (name: string, description: string, timeoutMs: number, file: string, exportName: string): BenchmarkEntry => ({
  name,
  description,
  timeoutMs,
  load: async () => {
    const path = join(__dirname, `${file}.js`);
    if (!existsSync(path)) return null;
    const mod = (await import(path)) as Record<string, unknown>;
    const fn = mod[exportName];
    if (typeof fn !== 'function') throw new Error(`${file}.ts does not export a function ${exportName}`);
    return fn as Benchmark;
  },
});

export const BENCHMARKS: BenchmarkEntry[] = [
  builtIn('gateway', 'gateway CPU µs and req/s per proxied request vs a reference gateway, null upstream', 5 * 60_000, benchGatewayCpu),
  // second, before the benchmarks that load Postgres and the broker: their aftermath
  // (autovacuum after a million rows, the relays, a replay window full of their events) took
  // the streams' p99 from 0.2–0.5 s to 0.9–1.3 s when it ran last
  builtIn(
    'realtime',
    '10,000 concurrent event streams (SSE) via 2 gateways → 2 realtime replicas: held, errors, publish→client p50/p99, RSS',
    15 * 60_000,
    benchRealtime,
  ),
  builtIn('latency', 'GET /documents/{id}: gateway vs intake direct', 5 * 60_000, benchGatewayLatency),
  builtIn(
    'uploads',
    '500 concurrent 1 MiB uploads by 500 citizens vs the same PUTs to the store; ROUTED',
    20 * 60_000,
    benchConcurrentUploads,
  ),
  builtIn('throughput', 'one 50 MiB upload vs a direct PUT to the store; RSS of every process, stalls', 10 * 60_000, benchUploadThroughput),
  builtIn('memory', 'RSS growth of gateway and intake during 50 and 95 MiB uploads', 5 * 60_000, benchUploadMemory),
  builtIn('sdk', 'SDK send and open of a 50 MiB file (MiB/s, client peak RSS) beside the raw upload', 5 * 60_000, benchSdk),
  optional(
    'paging',
    'message paging in a thread: p50/p99 at 10 k and 1 M messages, EXPLAIN',
    20 * 60_000,
    'message-paging.bench',
    'benchMessagePaging',
  ),
  optional('export', 'export of a 50 MiB case with 1,000 messages: time and worker peak RSS', 10 * 60_000, 'export.bench', 'benchExport'),
];
