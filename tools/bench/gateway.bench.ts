import { join } from 'node:path';
import autocannon from 'autocannon';
import { cpuSeconds } from './processes';
import { spawnReferenceGateway } from './reference/pipeline';
import { BenchProcess, spawnNode } from './spawn';
import type { BenchContext, BenchResult } from './types';
import { median, ratio, round } from './util';

const CONNECTIONS = 32;
const PATH = '/api/v1/documents';

/** Slices per side in each repetition (see below). */
const SLICES = 4;

interface Run {
  reqPerS: number;
  cpuUsPerReq: number;
  requests: number;
  failures: number;
  /** The load's duration and the process's CPU over it, in seconds (to combine slices). */
  seconds: number;
  cpuSeconds: number;
}

/** Slices of one side as one run: requests, seconds and CPU summed. */
function combined(slices: Run[]): Run {
  const requests = slices.reduce((n, r) => n + r.requests, 0);
  const seconds = slices.reduce((n, r) => n + r.seconds, 0);
  const cpu = slices.reduce((n, r) => n + r.cpuSeconds, 0);
  return {
    reqPerS: requests / seconds,
    cpuUsPerReq: requests > 0 ? (cpu * 1e6) / requests : Number.NaN,
    requests,
    failures: slices.reduce((n, r) => n + r.failures, 0),
    seconds,
    cpuSeconds: cpu,
  };
}

/** Loads `url` for `durationS` and charges the process `pid` with the CPU time it used meanwhile. */
async function measure(url: string, pid: number, token: string, durationS: number): Promise<Run> {
  const cpu0 = cpuSeconds(pid);
  const r = await autocannon({
    url: `${url}${PATH}`,
    headers: { authorization: `Bearer ${token}` },
    connections: CONNECTIONS,
    duration: durationS,
    timeout: 10,
  });
  const cpu1 = cpuSeconds(pid);
  const requests = r['2xx'] + r.non2xx;
  if (cpu0 === null || cpu1 === null) throw new Error(`process ${pid} went away during the run`);
  return {
    reqPerS: requests / r.duration,
    cpuUsPerReq: requests > 0 ? ((cpu1 - cpu0) * 1e6) / requests : Number.NaN,
    requests,
    failures: r.non2xx + r.errors + r.timeouts,
    seconds: r.duration,
    cpuSeconds: cpu1 - cpu0,
  };
}

/**
 * The gateway's own cost per authenticated proxied request, against an upstream that does
 * nothing: a second gateway process started as the launcher starts one (LOG_LEVEL=info, as
 * deployed) but with every upstream pointed at the null upstream, and, in the same run, the
 * reference gateway (RS256 verify + Redis counter + proxy, hand-written on node:http) in
 * front of the same upstream. CPU time of each process ÷ requests it answered, and req/s,
 * alternating which goes first; each figure is the median of the repetitions.
 */
export async function benchGatewayCpu(ctx: BenchContext): Promise<BenchResult[]> {
  const b = 'gateway';
  if (!ctx.direct)
    return [{ benchmark: b, metric: 'gateway CPU per request', value: null, note: 'skipped: no direct access (BENCH_GATEWAY_URL)' }];
  const direct = ctx.direct;
  const durationS = Math.min(20, Math.max(3, Math.round(10 * ctx.scale)));
  const token = ctx.authority.sample.citizenToken;
  const started: BenchProcess[] = [];
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    ...(direct.env.NODE_OPTIONS ? { NODE_OPTIONS: direct.env.NODE_OPTIONS } : {}),
  };
  try {
    const upstream = await spawnNode({ name: 'null upstream', script: join(__dirname, 'reference', 'null-upstream.js'), env });
    started.push(upstream);
    const ours = await direct.spawnGateway({
      INTAKE_URL: upstream.url,
      ROUTING_ENGINE_URL: upstream.url,
      COMMUNICATION_URL: upstream.url,
      EXPORT_WORKER_URL: upstream.url,
      REALTIME_URL: upstream.url,
      LOG_LEVEL: 'info',
    });
    started.push(ours);
    const reference = await spawnReferenceGateway(direct, env, upstream.url, 'reference:');
    started.push(reference);

    // both answer the token, then warm up (JIT, pools)
    for (const p of [ours, reference]) {
      const res = await fetch(`${p.url}${PATH}`, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`${p.name} answered ${res.status} to the citizen's token`);
      await autocannon({ url: `${p.url}${PATH}`, headers: { authorization: `Bearer ${token}` }, connections: CONNECTIONS, duration: 2 });
    }

    // Each repetition interleaves the two in slices, A B B A …, so that the machine's drift
    // and the other tenants' bursts fall on both alike (measured back to back for 10 s each,
    // the ratio moved between 0.9× and 1.4× from run to run on the same code).
    const sliceS = durationS / SLICES;
    const runs: Array<{ ours: Run; reference: Run }> = [];
    for (let rep = 1; rep <= ctx.reps; rep++) {
      ctx.log(
        `gateway: repetition ${rep}/${ctx.reps}, ${durationS} s each × ${CONNECTIONS} connections, ours and the reference in ${SLICES} slices each`,
      );
      const sum: Record<'ours' | 'reference', Run[]> = { ours: [], reference: [] };
      for (let slice = 0; slice < SLICES; slice++) {
        const pair = (slice + rep) % 2 ? (['ours', 'reference'] as const) : (['reference', 'ours'] as const);
        for (const who of pair) {
          const p = who === 'ours' ? ours : reference;
          sum[who].push(await measure(p.url, p.pid, token, sliceS));
        }
      }
      runs.push({ ours: combined(sum.ours), reference: combined(sum.reference) });
    }
    if (ctx.profiler) {
      await ctx.profiler.profile('gateway-get', { gateway: ours.pid }, () => measure(ours.url, ours.pid, token, durationS));
      await ctx.profiler.profile('reference-get', { 'reference-gateway': reference.pid }, () =>
        measure(reference.url, reference.pid, token, durationS),
      );
    }

    const cpuOurs = runs.map((r) => round(r.ours.cpuUsPerReq));
    const cpuRef = runs.map((r) => round(r.reference.cpuUsPerReq));
    const rpsOurs = runs.map((r) => round(r.ours.reqPerS));
    const rpsRef = runs.map((r) => round(r.reference.reqPerS));
    const cpuRatios = runs.map((r) => ratio(r.ours.cpuUsPerReq, r.reference.cpuUsPerReq) ?? Number.NaN);
    const rpsRatios = runs.map((r) => ratio(r.ours.reqPerS, r.reference.reqPerS) ?? Number.NaN);
    const failures = runs.reduce((n, r) => n + r.ours.failures + r.reference.failures, 0);
    const note = `GET ${PATH}, ${CONNECTIONS} conns, ${durationS} s × ${ctx.reps}`;
    return [
      { benchmark: b, metric: 'gateway CPU per request', value: round(median(cpuOurs)), unit: 'µs', reps: cpuOurs, note },
      { benchmark: b, metric: 'reference CPU per request', value: round(median(cpuRef)), unit: 'µs', reps: cpuRef },
      {
        benchmark: b,
        metric: 'CPU per request gateway ÷ reference',
        value: round(median(cpuRatios)),
        unit: '×',
        reps: cpuRatios,
        goal: { op: '<=', target: 1.0 },
      },
      { benchmark: b, metric: 'gateway req/s', value: round(median(rpsOurs)), unit: 'req/s', reps: rpsOurs },
      { benchmark: b, metric: 'reference req/s', value: round(median(rpsRef)), unit: 'req/s', reps: rpsRef },
      {
        benchmark: b,
        metric: 'req/s gateway ÷ reference',
        value: round(median(rpsRatios)),
        unit: '×',
        reps: rpsRatios,
        goal: { op: '>=', target: 1.0 },
      },
      { benchmark: b, metric: 'failed requests', value: failures, unit: 'requests', goal: { op: '==', target: 0 }, details: runs },
    ];
  } finally {
    for (const p of started.reverse()) await p.stop();
  }
}
