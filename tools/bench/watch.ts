/**
 * What every platform process does while a benchmark loads it: the longest event-loop
 * stall of each service (`monitorEventLoopDelay`, read from prom-client's
 * `nodejs_eventloop_lag_max_seconds`, which resets at every scrape) and the peak RSS
 * growth of every process, the local S3 store included.
 */
import { availableParallelism } from 'node:os';
import { cpuTimes, mainThreadCpuSeconds, sharedServiceCpu, sharedServiceTimes } from './processes';
import { PATH_NAMES, Path } from './reference/pipeline';
import type { AppName, BenchContext, BenchResult, Goal, RssFigures } from './types';
import { median, round } from './util';

export const SERVICES_WITH_METRICS = ['gateway', 'intake', 'routing-engine', 'communication', 'export-worker', 'realtime'] as const;
const PROCESSES: AppName[] = [...SERVICES_WITH_METRICS, 'dev-idp', 'local-s3'];

function metricsUrl(ctx: BenchContext, service: (typeof SERVICES_WITH_METRICS)[number]): string | null {
  if (service === 'gateway') return `${ctx.gatewayUrl}/metrics`;
  if (service === 'realtime') return ctx.direct ? `http://127.0.0.1:${ctx.direct.realtimePort}/metrics` : null;
  return ctx.direct ? `${ctx.direct.serviceUrl(service)}/metrics` : null;
}

/** Each service whose metrics the bench can read, with their URL. */
function metricsUrls(ctx: BenchContext): Array<[string, string]> {
  const urls: Array<[string, string]> = [];
  for (const s of SERVICES_WITH_METRICS) {
    const url = metricsUrl(ctx, s);
    if (url) urls.push([s, url]);
  }
  return urls;
}

/** The longest event-loop delay since the previous scrape, in ms (null when unknown). */
async function maxLagMs(url: string): Promise<number | null> {
  const text = await fetch(url, { signal: AbortSignal.timeout(10_000) })
    .then((r) => (r.ok ? r.text() : ''))
    .catch(() => '');
  const m = /^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? ([0-9.eE+-]+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : null;
}

/** Starts watching stalls (the scrape now resets each service's maximum); `stop()` reads them. */
export async function watchStalls(ctx: BenchContext): Promise<{ stop(): Promise<Record<string, number | null>> }> {
  const urls = metricsUrls(ctx);
  const scrape = async () => Object.fromEntries(await Promise.all(urls.map(async ([s, u]) => [s, await maxLagMs(u)] as const)));
  await scrape();
  return { stop: scrape };
}

/** Time spent in garbage collection so far (prom-client's `nodejs_gc_duration_seconds`, every kind), in ms. */
async function gcMs(url: string): Promise<number | null> {
  const text = await fetch(url, { signal: AbortSignal.timeout(10_000) })
    .then((r) => (r.ok ? r.text() : ''))
    .catch(() => '');
  let total: number | null = null;
  for (const m of text.matchAll(/^nodejs_gc_duration_seconds_sum(?:\{[^}]*\})? ([0-9.eE+-]+)$/gm))
    total = (total ?? 0) + Number(m[1]) * 1000;
  return total;
}

/** Starts measuring each service's garbage-collection time; `stop()` answers the ms spent since. */
export async function watchGc(ctx: BenchContext): Promise<{ stop(): Promise<Record<string, number | null>> }> {
  const urls = metricsUrls(ctx);
  const read = async () => Object.fromEntries(await Promise.all(urls.map(async ([s, u]) => [s, await gcMs(u)] as const)));
  const start = await read();
  return {
    stop: async () => {
      const end = await read();
      return Object.fromEntries(
        Object.entries(end).map(([s, v]) => [s, v === null || start[s] === null ? null : v - (start[s] as number)]),
      );
    },
  };
}

/** The row for the GC time of each repetition (`watchGc`): the total's median, per service in the note. */
export function gcResult(benchmark: string, metric: string, runs: Array<Record<string, number | null>>): BenchResult[] {
  const names = Object.keys(runs[0] ?? {}).filter((s) => runs.some((r) => (r[s] ?? 0) >= 1));
  if (!names.length) return [];
  return [
    {
      benchmark,
      metric,
      value: round(median(runs.map((r) => Object.values(r).reduce<number>((a, v) => a + (v ?? 0), 0)))),
      unit: 'ms',
      note: names.map((s) => `${s} ${round(median(runs.map((r) => r[s] ?? 0)))}`).join(', '),
      details: runs,
    },
  ];
}

/**
 * One row per process for the longest event-loop stall of each repetition (`watchStalls`,
 * or a reference pipeline's `lag()`): the median, with the goal when it has one (without,
 * the row is an anchor printed beside the goals).
 */
export function stallResults(benchmark: string, runs: Array<Record<string, number | null>>, goal?: Goal): BenchResult[] {
  const results: BenchResult[] = [];
  for (const name of Object.keys(runs[0] ?? {})) {
    const values = runs.map((s) => s[name]).filter((v): v is number => v !== null);
    if (!values.length) continue;
    results.push({
      benchmark,
      metric: `longest event-loop stall: ${name}`,
      value: round(median(values)),
      unit: 'ms',
      reps: values.map(round),
      ...(goal ? { goal } : { beside: true }),
    });
  }
  return results;
}

/** PIDs of every platform process the bench can find. */
export function platformPids(ctx: BenchContext): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const app of PROCESSES) {
    const pid = ctx.pidOf(app);
    if (pid !== null) pids[app] = pid;
  }
  return pids;
}

/** The local S3 store's PID alone: what a PUT straight to it costs (not the platform's work on an earlier burst). */
export function storePids(ctx: BenchContext): Record<string, number> {
  const pid = ctx.pidOf('local-s3');
  return pid === null ? {} : { 'local-s3': pid };
}

/** Samples RSS of every platform process while `fn` runs. */
export async function withRss<T>(ctx: BenchContext, fn: () => Promise<T>): Promise<{ result: T; rss: Record<string, RssFigures> }> {
  const sampler = ctx.rssSampler(platformPids(ctx), 25);
  try {
    const result = await fn();
    return { result, rss: sampler.stop() };
  } catch (err) {
    sampler.stop();
    throw err;
  }
}

/**
 * CPU ms of Postgres, RabbitMQ and Redis (every process of each, found by name on this
 * machine; empty for a remote platform) and of it in the kernel: not the platform's
 * processes, but on the same cores, and each round trip the platform makes costs them too.
 */
export interface SharedCpu {
  cpuMs: Record<string, number>;
  kernelMs: Record<string, number>;
}

/**
 * CPU time (all threads) each platform process (or each of `pids`) and the bench itself
 * (the client) spend while `fn` runs, in ms: with every process on the same cores, a burst cannot end before
 * the CPU it needs is spent, so this is the floor under its latency. `shared`: the same for
 * the shared services ({@link SharedCpu}).
 */
export async function withCpu<T>(
  ctx: BenchContext,
  fn: () => Promise<T>,
  pids: Record<string, number> = platformPids(ctx),
): Promise<{
  result: T;
  cpuMs: Record<string, number>;
  kernelMs: Record<string, number>;
  shared: SharedCpu;
  /** of each process's main thread alone (its event loop) */
  mainThreadMs: Record<string, number>;
}> {
  const before = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, cpuTimes(pid)]));
  const mainBefore = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, mainThreadCpuSeconds(pid)]));
  // a platform elsewhere (no local pids): this machine's services are not its
  const local = Object.keys(pids).length > 0;
  const sharedBefore = local ? sharedServiceTimes() : new Map();
  const self0 = process.cpuUsage();
  const result = await fn();
  const self = process.cpuUsage(self0);
  const mainThreadMs: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const a = mainBefore[name];
    const b = mainThreadCpuSeconds(pid);
    if (a !== null && b !== null) mainThreadMs[name] = (b - a) * 1000;
  }
  const shared = local ? sharedServiceCpu(sharedBefore, sharedServiceTimes()) : { cpuMs: {}, kernelMs: {} };
  const cpuMs: Record<string, number> = { 'bench client': (self.user + self.system) / 1000 };
  // in the kernel: socket and file copies, which no change to our code removes
  const kernelMs: Record<string, number> = { 'bench client': self.system / 1000 };
  for (const [name, pid] of Object.entries(pids)) {
    const a = before[name];
    const b = cpuTimes(pid);
    if (!a || !b) continue;
    cpuMs[name] = (b.user + b.system - a.user - a.system) * 1000;
    kernelMs[name] = (b.system - a.system) * 1000;
  }
  return { result, cpuMs, kernelMs, shared, mainThreadMs };
}

/**
 * The CPU of each path's loads, one entry per repetition: its processes' (the platform's
 * when no pids are given), their kernel part, the shared services' and the store's
 * event-loop thread's.
 */
export class PathCpu {
  readonly cpu: Record<Path, Array<Record<string, number>>> = { platform: [], reference: [], direct: [] };
  readonly kernel: Record<Path, Array<Record<string, number>>> = { platform: [], reference: [], direct: [] };
  readonly shared: Record<Path, SharedCpu[]> = { platform: [], reference: [], direct: [] };
  readonly storeThread: Record<Path, number[]> = { platform: [], reference: [], direct: [] };

  constructor(private readonly ctx: BenchContext) {}

  async measure<T>(path: Path, load: () => Promise<T>, pids?: Record<string, number>): Promise<T> {
    const timed = await withCpu(this.ctx, load, pids);
    this.cpu[path].push(timed.cpuMs);
    this.kernel[path].push(timed.kernelMs);
    this.shared[path].push(timed.shared);
    this.storeThread[path].push(timed.mainThreadMs['local-s3'] ?? Number.NaN);
    return timed.result;
  }
}

/**
 * The shared services' CPU per unit of work (`per` uploads) as one row, the median of the
 * runs, split by service in the note; null when none of them runs on this machine.
 */
export function sharedCpuRow(benchmark: string, metric: string, runs: SharedCpu[], per: number): BenchResult | null {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.cpuMs)))].sort();
  if (!names.length) return null;
  const of = (name: string, field: 'cpuMs' | 'kernelMs') => round(median(runs.map((r) => (r[field][name] ?? 0) / per)));
  return {
    benchmark,
    metric,
    value: round(median(runs.map((r) => Object.values(r.cpuMs).reduce((a, v) => a + v, 0) / per))),
    unit: 'ms',
    note: names.map((name) => `${name} ${of(name, 'cpuMs')} (kernel ${of(name, 'kernelMs')})`).join(', '),
    details: { cpuMs: runs.map((r) => r.cpuMs), kernelMs: runs.map((r) => r.kernelMs) },
  };
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, v) => a + v, 0);

/**
 * Whether a load was bound by the machine's CPU, per repetition: the CPU every process of
 * the path spent (the platform's or the reference pipeline's, the store, the bench client;
 * for the platform Postgres, RabbitMQ and Redis too) divided by the cores, against the load's duration. Near 1,
 * the load cannot end before its CPU is spent, and the ratio of two paths' durations follows
 * the ratio of their CPU, printed beside it (`what` names the load: `burst`, `upload`).
 */
export function cpuBoundRows(
  benchmark: string,
  what: string,
  cpu: Record<Path, Array<Record<string, number>>>,
  shared: Record<Path, SharedCpu[]>,
  wallMs: Record<Path, number[]>,
  /** the store's event-loop thread's CPU in each repetition, per path */
  storeThreadMs?: Record<Path, number[]>,
): BenchResult[] {
  const cores = availableParallelism();
  // Postgres, RabbitMQ and Redis work for the platform only: during the other paths they
  // finish the platform's earlier work, which is not theirs
  const totals = (path: Path) => cpu[path].map((r, i) => sum(r) + (path === 'platform' ? sum(shared[path][i]?.cpuMs ?? {}) : 0));
  // near 1: the store's one JavaScript thread was busy all along, whatever the cores had left
  const storeLoop = (path: Path) => {
    const ms = storeThreadMs?.[path] ?? [];
    if (!ms.length || ms.length !== wallMs[path].length) return '';
    return `; the store's event-loop thread busy ${ms.map((t, i) => round(t / wallMs[path][i])).join(', ')} of it`;
  };
  const results: BenchResult[] = [];
  for (const path of ['platform', 'reference', 'direct'] as const) {
    const cpuMs = totals(path);
    if (!cpuMs.length || cpuMs.length !== wallMs[path].length) continue;
    // a platform elsewhere (BENCH_GATEWAY_URL): only the bench client was measured
    if (Object.keys(cpu[path][0]).every((name) => name === 'bench client')) continue;
    const busy = cpuMs.map((ms, i) => round(ms / cores / wallMs[path][i]));
    results.push({
      benchmark,
      metric: `share of the ${cores} cores the ${what} kept busy, ${PATH_NAMES[path]}`,
      value: round(median(busy)),
      unit: '',
      reps: busy,
      note: `measured processes' CPU ÷ ${cores} ÷ the ${what}'s duration (${cpuMs.map((ms, i) => `${round(ms)} ms CPU in ${round(wallMs[path][i])} ms`).join(', ')}); near 1: bound by the CPU${storeLoop(path)}`,
    });
  }
  const direct = totals('direct');
  if (!direct.length) return results;
  for (const path of ['platform', 'reference'] as const) {
    const ratios = totals(path).map((ms, i) => round(ms / direct[i]));
    if (!ratios.length) continue;
    results.push({
      benchmark,
      metric: `CPU per ${what}, ${path === 'platform' ? 'platform' : 'reference pipeline'} ÷ direct PUT`,
      beside: true,
      value: round(median(ratios)),
      unit: '×',
      reps: ratios,
      note: `every process of each path (the platform's with Postgres, RabbitMQ and Redis): where the ${what}s keep the cores busy, their durations' ratio follows this one`,
    });
  }
  return results;
}
