/**
 * CPU profiles of platform processes for one phase of a benchmark (`npm run bench -- --profile`).
 * The processes run with `--inspect=127.0.0.1:0` (a random loopback port each); the bench
 * finds the port from the process's listening sockets, speaks the inspector protocol over
 * its WebSocket, and starts and stops V8's sampling profiler around the phase. Each profile
 * goes to a `.cpuprofile` file (Chrome DevTools, speedscope and VS Code open it) and is
 * summarised as the functions with the most self time and the same by package.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listeningPortsOf } from './processes';
import { round } from './util';

/** The inspector flag for NODE_OPTIONS: a random port per process, loopback only. */
export const INSPECT_OPTION = '--inspect=127.0.0.1:0';

/** Sampling interval in µs (V8's default is 1000): finer shares for short phases. */
const SAMPLING_INTERVAL_US = 250;

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; hitCount?: number; children?: number[] }>;
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTimeRow {
  /** `function (file:line)`, or a V8 pseudo-node such as `(garbage collector)`. */
  name: string;
  selfMs: number;
  /** Share of the busy (non-idle) time, in percent. */
  sharePct: number;
}

export interface ProfileSummary {
  label: string;
  process: string;
  file: string;
  /** Wall time the profile covers and the part of it the process was busy (not idle), in ms. */
  wallMs: number;
  busyMs: number;
  top: SelfTimeRow[];
  byPackage: SelfTimeRow[];
  /** Where the garbage comes from: V8's sampling heap profiler over the same phase (`.heapprofile`). */
  allocations?: { file: string; totalMiB: number; top: AllocationRow[] };
}

export interface AllocationRow {
  name: string;
  /** MiB allocated at this function during the phase (sampled; freed or not). */
  mib: number;
  sharePct: number;
}

/** V8's sampling heap profile: allocation sites as a tree, each with the bytes sampled there. */
export interface HeapProfileNode {
  callFrame: CallFrame;
  selfSize: number;
  children?: HeapProfileNode[];
}

/** Bytes allocated per function (self), largest first. */
export function summariseAllocations(head: HeapProfileNode, top = 12): { totalMiB: number; top: AllocationRow[] } {
  const perFunction = new Map<string, number>();
  let total = 0;
  const stack: HeapProfileNode[] = [head];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.selfSize > 0) {
      const name = frameName(n.callFrame);
      perFunction.set(name, (perFunction.get(name) ?? 0) + n.selfSize);
      total += n.selfSize;
    }
    if (n.children) stack.push(...n.children);
  }
  const rows = [...perFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, bytes]) => ({ name, mib: round(bytes / 2 ** 20), sharePct: total > 0 ? round((100 * bytes) / total) : 0 }));
  return { totalMiB: round(total / 2 ** 20), top: rows };
}

/** One heap sample per this many bytes allocated on average (V8's default is 32 KiB). */
const HEAP_SAMPLING_BYTES = 16 * 1024;

/** Where a function comes from: a package, Node's own code, ours (apps/… or libs/…), or V8. */
export function packageOf(url: string): string {
  if (!url) return '(native/V8)';
  if (url.startsWith('node:')) return 'node (built-in)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const ours = /\/dist\/((?:apps|libs|tools)\/[^/]+)\//.exec(url);
  return ours ? `ours: ${ours[1]}` : url.replace(/^file:\/\//, '');
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + '/dist/'.length);
  return url.replace(/^file:\/\//, '');
}

/** A V8 pseudo-node such as `(garbage collector)` or `(program)`. */
const isPseudo = (f: CallFrame) => f.functionName.startsWith('(') && !f.url;

/** `function (file:line)`, or the pseudo-node's own name. */
function frameName(f: CallFrame): string {
  return isPseudo(f) ? f.functionName : `${f.functionName || '(anonymous)'} (${shortUrl(f.url) || 'native'}:${f.lineNumber + 1})`;
}

/** Self time per function and per package; shares are of the busy time (idle excluded). */
export function summariseProfile(profile: CpuProfile, top = 20): Omit<ProfileSummary, 'label' | 'process' | 'file'> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  if (profile.samples?.length && profile.timeDeltas?.length) {
    // timeDeltas[i] is the time before sample i; the time after sample i is timeDeltas[i + 1]
    for (let i = 0; i < profile.samples.length; i++) {
      const dt = profile.timeDeltas[i + 1] ?? 0;
      selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + Math.max(0, dt));
    }
  } else {
    for (const n of profile.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * SAMPLING_INTERVAL_US);
  }
  const perFunction = new Map<string, number>();
  const perPackage = new Map<string, number>();
  let idleUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const f = node.callFrame;
    if (f.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const pseudo = isPseudo(f);
    const name = frameName(f);
    perFunction.set(name, (perFunction.get(name) ?? 0) + us);
    const pkg = pseudo ? f.functionName : packageOf(f.url);
    perPackage.set(pkg, (perPackage.get(pkg) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const rows = (m: Map<string, number>, n: number): SelfTimeRow[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, selfMs: round(us / 1000), sharePct: busyUs > 0 ? round((100 * us) / busyUs) : 0 }));
  return {
    wallMs: round((profile.endTime - profile.startTime) / 1000),
    busyMs: round(busyUs / 1000),
    top: rows(perFunction, top),
    byPackage: rows(perPackage, 12),
  };
}

/** One inspector connection (Chrome DevTools protocol over the process's WebSocket). */
class InspectorSession {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id!);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
    ws.addEventListener('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('inspector connection closed'));
      this.pending.clear();
    });
  }

  /** Connects to the inspector `pid` listens on; null when it has none (not started with --inspect). */
  static async open(pid: number): Promise<InspectorSession | null> {
    for (const port of listeningPortsOf(pid)) {
      const targets = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(2_000) })
        .then((r) => (r.ok ? (r.json() as Promise<Array<{ webSocketDebuggerUrl?: string }>>) : null))
        .catch(() => null);
      const url = Array.isArray(targets) ? targets.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl : undefined;
      if (!url) continue;
      const ws = new WebSocket(url);
      await new Promise<void>((resolve, reject) => {
        ws.addEventListener('open', () => resolve(), { once: true });
        ws.addEventListener('error', () => reject(new Error(`inspector of pid ${pid} refused the connection`)), { once: true });
      });
      return new InspectorSession(ws);
    }
    return null;
  }

  send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** Profiles named processes around phases; keeps one session per process for the whole run. */
export class PhaseProfiler {
  readonly summaries: ProfileSummary[] = [];
  private readonly sessions = new Map<number, InspectorSession | null>();

  constructor(
    private readonly dir: string,
    private readonly log: (line: string) => void,
  ) {}

  private async session(pid: number): Promise<InspectorSession | null> {
    if (!this.sessions.has(pid)) this.sessions.set(pid, await InspectorSession.open(pid).catch(() => null));
    return this.sessions.get(pid)!;
  }

  /** Runs `fn` with the profiler on in every process of `targets` (name → pid); writes and summarises each profile. */
  async profile<T>(label: string, targets: Record<string, number | null>, fn: () => Promise<T>): Promise<T> {
    const started: Array<[string, InspectorSession]> = [];
    for (const [name, pid] of Object.entries(targets)) {
      const s = pid === null ? null : await this.session(pid);
      if (!s) {
        this.log(`profile ${label}: no inspector on ${name} (pid ${pid ?? '?'}), not profiled`);
        continue;
      }
      await s.send('Profiler.enable');
      await s.send('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
      await s.send('Profiler.start');
      // what is allocated during the phase, also what is freed again: the garbage the collector sweeps
      await s.send('HeapProfiler.enable');
      await s.send('HeapProfiler.startSampling', {
        samplingInterval: HEAP_SAMPLING_BYTES,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
      started.push([name, s]);
    }
    try {
      return await fn();
    } finally {
      for (const [name, s] of started) {
        try {
          const { profile } = await s.send<{ profile: CpuProfile }>('Profiler.stop');
          const heap = await s.send<{ profile: { head: HeapProfileNode } }>('HeapProfiler.stopSampling');
          // names like "reference gateway" become one word: no spaces in the files' names
          const base = join(this.dir, `${label}.${name.replace(/\s+/g, '-')}`);
          const file = `${base}.cpuprofile`;
          writeFileSync(file, JSON.stringify(profile));
          const heapFile = `${base}.heapprofile`;
          writeFileSync(heapFile, JSON.stringify(heap.profile));
          const allocations = { file: heapFile, ...summariseAllocations(heap.profile.head) };
          this.summaries.push({ label, process: name, file, ...summariseProfile(profile), allocations });
        } catch (err) {
          this.log(`profile ${label}: ${name} failed: ${(err as Error).message}`);
        }
      }
    }
  }

  close(): void {
    for (const s of this.sessions.values()) s?.close();
    this.sessions.clear();
  }

  /** The summaries as text: per profile the top self-time functions and packages. */
  report(top = 12): string {
    const out: string[] = [];
    for (const s of this.summaries) {
      out.push(`\n── profile ${s.label} · ${s.process}: busy ${s.busyMs} ms of ${s.wallMs} ms (${s.file})`);
      out.push('   self %   self ms  function');
      for (const r of s.top.slice(0, top)) out.push(`   ${String(r.sharePct).padStart(6)}  ${String(r.selfMs).padStart(8)}  ${r.name}`);
      out.push('   by package: ' + s.byPackage.map((r) => `${r.name} ${r.sharePct}%`).join(', '));
      if (s.allocations) {
        out.push(`   allocated ${s.allocations.totalMiB} MiB (sampled, ${s.allocations.file}):`);
        for (const r of s.allocations.top.slice(0, 8))
          out.push(`   ${String(r.sharePct).padStart(6)}  ${String(r.mib).padStart(8)}  ${r.name}`);
      }
    }
    return out.join('\n');
  }
}
