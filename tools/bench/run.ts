/**
 * `npm run bench`: starts the platform as `npm start` does (isolated database, vhost,
 * bucket, ports; or uses BENCH_GATEWAY_URL), registers an authority through the gateway,
 * runs the benchmarks from a process of its own and prints one table; the figures also
 * go to bench-results/bench-<timestamp>.json.
 *
 *   BENCH_ONLY=latency,uploads   run only these (names in registry.ts); also `npm run bench -- --only realtime`
 *   BENCH_SCALE=0.1              scale counts down for a quick run (50 uploads instead of 500)
 *   BENCH_REPS=3                 repetitions of every figure that has a goal (the median is printed; the JSON keeps all); also `--reps 1`
 *   BENCH_NODE_OPTIONS=…         Node/V8 flags for every platform process (to try e.g. GC settings)
 *   --profile                    (npm run bench -- --profile) CPU profiles of the gateway, intake and the store
 *                                during the load phases: .cpuprofile files next to the results and the
 *                                top self-time functions printed at the end
 *   BENCH_GATEWAY_URL=http://127.0.0.1:3000   use a running platform (its dev IdP: BENCH_IDP_URL,
 *                                default http://127.0.0.1:3100); direct-to-service measurements are skipped
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createContext } from './context';
import { BENCHMARKS } from './registry';
import { BenchPlatform, ROOT, externalPlatform, spawnPlatform } from './platform';
import { PhaseProfiler } from './profiler';
import type { BenchResult, Goal } from './types';
import { MiB, withTimeout } from './util';

const started = Date.now();
const loadAtStart = loadavg();
const log = (line: string) => console.log(`[bench +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);

function parseScale(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 1;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0 || v > 10) throw new Error(`BENCH_SCALE (--scale) must be a number in (0, 10], got "${raw}"`);
  return v;
}

function selected(raw: string | undefined): Set<string> | null {
  if (!raw?.trim()) return null;
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const known = new Set(BENCHMARKS.map((b) => b.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) throw new Error(`BENCH_ONLY names unknown benchmarks: ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  return new Set(names);
}

function formatValue(v: BenchResult['value']): string {
  if (v === null) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : String(v);
  return v;
}

function parseReps(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 3;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1 || v > 20) throw new Error(`BENCH_REPS (--reps) must be an integer in [1, 20], got "${raw}"`);
  return v;
}

function met(value: number, g: Goal): boolean {
  switch (g.op) {
    case '<=':
      return value <= g.target;
    case '>=':
      return value >= g.target;
    case '<':
      return value < g.target;
    case '==':
      return value === g.target;
  }
}

/** Every figure that has a goal: its median, the repetitions, the goal and whether it is met. */
function goalsTable(results: BenchResult[]): string {
  const withGoal = results.filter((r) => r.goal || r.beside);
  if (!withGoal.length) return '';
  return table(
    withGoal.map((r) => {
      if (!r.goal) return { ...r, note: `(no goal; explains the figures around it)${r.reps ? `   (reps ${r.reps.join(', ')})` : ''}` };
      const ok = typeof r.value === 'number' && Number.isFinite(r.value) && met(r.value, r.goal!);
      return {
        benchmark: r.benchmark,
        metric: r.metric,
        value: r.value,
        unit: r.unit,
        note: `goal ${r.goal!.op} ${r.goal!.target}${r.unit === '×' ? '×' : ` ${r.unit ?? ''}`}: ${ok ? 'met' : 'NOT MET'}${r.reps ? `   (reps ${r.reps.join(', ')})` : ''}`,
      };
    }),
  );
}

function table(results: BenchResult[]): string {
  const rows = [
    ['benchmark', 'metric', 'value', 'unit', 'note'],
    ...results.map((r) => [r.benchmark, r.metric, formatValue(r.value), r.unit ?? '', r.note ?? '']),
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) =>
    [r[0].padEnd(widths[0]), r[1].padEnd(widths[1]), r[2].padStart(widths[2]), r[3].padEnd(widths[3]), r[4]].join('  ').trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  ') + '  ----', ...rows.slice(1).map(line)].join('\n');
}

/** `--only a,b`, `--scale n` and `--reps n` on the command line, as BENCH_ONLY, BENCH_SCALE and BENCH_REPS. */
function argument(name: string): string | undefined {
  const args = process.argv.slice(2);
  const at = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (at < 0) return undefined;
  return args[at].includes('=') ? args[at].slice(args[at].indexOf('=') + 1) : args[at + 1];
}

async function main(): Promise<number> {
  const scale = parseScale(argument('scale') ?? process.env.BENCH_SCALE);
  const only = selected(argument('only') ?? process.env.BENCH_ONLY);
  const reps = parseReps(argument('reps') ?? process.env.BENCH_REPS);
  const profiling = process.argv.includes('--profile');
  const stamp = new Date(started).toISOString().replace(/[:.]/g, '-');
  const outDir = resolve(process.env.BENCH_OUT_DIR ?? join(ROOT, 'bench-results'));
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, `bench-${stamp}.json`);
  const results: BenchResult[] = [];
  let failed = false;
  let platform: BenchPlatform | undefined;
  let stopPlatform: () => Promise<void> = async () => undefined;
  let profiler: PhaseProfiler | null = null;
  if (profiling) {
    const dir = join(outDir, `profile-${stamp}`);
    mkdirSync(dir, { recursive: true });
    profiler = new PhaseProfiler(dir, log);
  }

  const interrupted = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping the platform`);
    void stopPlatform().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    platform = process.env.BENCH_GATEWAY_URL
      ? externalPlatform(process.env.BENCH_GATEWAY_URL)
      : await spawnPlatform({
          logFile: join(outDir, `bench-${stamp}.platform.log`),
          log,
          onStop: (stop) => (stopPlatform = stop),
          inspect: profiling,
        });
    log(
      `platform: gateway ${platform.gatewayUrl} (${platform.mode}); scale ${scale}; ${reps} repetitions${profiling ? '; profiling' : ''}`,
    );
    const ctx = await createContext(platform, scale, log, { profiler, reps });

    for (const entry of BENCHMARKS) {
      if (only && !only.has(entry.name)) continue;
      const fn = await entry.load();
      if (!fn) {
        results.push({ benchmark: entry.name, metric: entry.description, value: null, note: 'not available yet (no file)' });
        if (only) failed = true; // asked for explicitly
        continue;
      }
      log(
        `── ${entry.name}: ${entry.description} (load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')})`,
      );
      const t0 = Date.now();
      try {
        results.push(...(await withTimeout(fn(ctx), entry.timeoutMs, entry.name)));
        log(`── ${entry.name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      } catch (err) {
        failed = true;
        log(`── ${entry.name} FAILED: ${(err as Error)?.stack ?? String(err)}`);
        results.push({ benchmark: entry.name, metric: 'FAILED', value: null, note: (err as Error)?.message ?? String(err) });
      }
    }
  } catch (err) {
    failed = true;
    log(`FAILED: ${(err as Error)?.stack ?? String(err)}`);
    results.push({ benchmark: 'setup', metric: 'FAILED', value: null, note: (err as Error)?.message?.split('\n')[0] ?? String(err) });
  } finally {
    profiler?.close();
    if (platform) log('stopping the platform');
    await (platform?.stop() ?? stopPlatform());
  }

  const report = {
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date().toISOString(),
    mode: platform?.mode ?? null,
    gateway: platform?.gatewayUrl ?? null,
    scale,
    reps,
    only: only ? [...only] : null,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryMiB: Math.round(totalmem() / MiB),
      node: process.version,
      // other work on the machine skews every figure: compare runs with similar load
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: loadavg(),
    },
    results,
    profiles: profiler?.summaries ?? null,
  };
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  if (profiler) console.log(profiler.report());
  console.log(`\n${table(results)}\n`);
  const goals = goalsTable(results);
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  if (goals)
    console.log(
      `goals (median of ${reps}; load average at start ${load(loadAtStart)}, at end ${load(loadavg())}, ${cpus().length} cores):\n${goals}\n`,
    );
  console.log(`results: ${outFile}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
