import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { AppName, RssFigures, RssSampler } from './types';
import { MiB } from './util';

function readProc(pid: number, file: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null; // gone, or not ours to read
  }
}

function parentOf(pid: number): number | null {
  const m = /^PPid:\s+(\d+)/m.exec(readProc(pid, 'status') ?? '');
  return m ? Number(m[1]) : null;
}

/** VmRSS in bytes, or null when the process is gone. */
export function rssBytes(pid: number): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readProc(pid, 'status') ?? '');
  return m ? Number(m[1]) * 1024 : null;
}

/**
 * The PID of `node …/dist/apps/<app>/src/main.js`. With `parentPid` (the launcher the
 * bench spawned) only its children count; without, the match must be unique on the
 * machine (other platforms, e.g. parallel e2e runs, make it ambiguous → null).
 */
export function findAppPid(app: AppName, parentPid?: number): number | null {
  const matches: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (!isApp(pid, app)) continue;
    if (parentPid !== undefined && parentOf(pid) !== parentPid) continue;
    matches.push(pid);
  }
  return matches.length === 1 ? matches[0] : null;
}

/** The PID of the process listening on TCP `port` (via /proc/net/tcp{,6} and the socket inodes in /proc/<pid>/fd). */
export function findPidListeningOn(port: number): number | null {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT, st 0A is LISTEN, inode is column 10
      if (cols.length > 9 && cols[1].endsWith(`:${hexPort}`) && cols[3] === '0A') inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return null;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (m && inodes.has(m[1])) return Number(entry);
      } catch {
        // closed meanwhile
      }
    }
  }
  return null;
}

/**
 * PIDs of a platform someone else started: the gateway is whoever listens on its port,
 * the other apps are its siblings (children of the same launcher).
 */
export function externalPidFinder(gatewayPort: number): (app: AppName) => number | null {
  return (app) => {
    const gateway = findPidListeningOn(gatewayPort);
    if (gateway === null || !isApp(gateway, 'gateway')) return null;
    if (app === 'gateway') return gateway;
    const launcher = parentOf(gateway);
    return launcher === null ? null : findAppPid(app, launcher);
  };
}

/** The script a platform process runs: the apps' main.js, the local store's own entry point. */
function scriptOf(app: AppName): string {
  return app === 'local-s3' ? 'dist/tools/launcher/local-s3-server.js' : `dist/apps/${app}/src/main.js`;
}

function isApp(pid: number, app: AppName): boolean {
  const script = scriptOf(app);
  return !!readProc(pid, 'cmdline')
    ?.split('\0')
    .some((arg) => arg.endsWith(script));
}

const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux (getconf CLK_TCK)

/** CPU time a process (all its threads) has used so far in user space and in the kernel, in seconds; null when it is gone. */
export function cpuTimes(pid: number): { user: number; system: number } | null {
  const stat = readProc(pid, 'stat');
  if (!stat) return null;
  // the fields after the command name (which may hold spaces) in parentheses
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLOCK_TICKS_PER_S, system: Number(fields[12]) / CLOCK_TICKS_PER_S }; // utime, stime
}

/** CPU seconds of a process's main thread alone (a Node process's event loop); null when it is gone. */
export function mainThreadCpuSeconds(pid: number): number | null {
  const stat = readProc(pid, `task/${pid}/stat`);
  if (!stat) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

/** CPU time (user + system, all threads) a process has used so far, in seconds; null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  const t = cpuTimes(pid);
  return t ? t.user + t.system : null;
}

/** TCP ports `pid` listens on (its socket inodes matched against /proc/net/tcp{,6}). */
export function listeningPortsOf(pid: number): number[] {
  const inodes = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && cols[3] === '0A' && inodes.has(cols[9])) ports.push(parseInt(cols[1].split(':')[1], 16));
    }
  }
  return ports;
}

/** Samples every `intervalMs` (default 50 ms); the first sample, taken at once, is the baseline. */
export function startRssSampler(pids: Record<string, number>, intervalMs = 50): RssSampler {
  const figures: Record<string, { baseline: number; peak: number }> = {};
  let count = 0;
  const sample = () => {
    count++;
    for (const [name, pid] of Object.entries(pids)) {
      const rss = rssBytes(pid);
      if (rss === null) continue;
      const f = (figures[name] ??= { baseline: rss, peak: rss });
      if (rss > f.peak) f.peak = rss;
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    get sampleCount() {
      return count;
    },
    stop() {
      clearInterval(timer);
      sample();
      const out: Record<string, RssFigures> = {};
      for (const [name, f] of Object.entries(figures)) {
        out[name] = { baselineMiB: f.baseline / MiB, peakMiB: f.peak / MiB, growthMiB: (f.peak - f.baseline) / MiB };
      }
      return out;
    },
  };
}

/** The machine's shared services by process name: the platform's Postgres, broker and Redis. */
const SHARED_SERVICES: Record<string, string> = {
  postgres: 'postgres',
  'beam.smp': 'rabbitmq',
  erl_child_setup: 'rabbitmq',
  'redis-server': 'redis',
};

/**
 * CPU seconds (user, system) of every process of the shared services by pid, with the
 * children they have reaped (a Postgres backend that ended counts in the postmaster's).
 */
export function sharedServiceTimes(): Map<number, { service: string; user: number; system: number; parent: number }> {
  const times = new Map<number, { service: string; user: number; system: number; parent: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProc(Number(entry), 'stat');
    if (!stat) continue;
    const service = SHARED_SERVICES[stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))];
    if (!service) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(f[i]) / CLOCK_TICKS_PER_S);
    times.set(Number(entry), { service, user: utime + cutime, system: stime + cstime, parent: Number(f[1]) });
  }
  return times;
}

/**
 * CPU ms (and of it in the kernel) each shared service spent between two
 * {@link sharedServiceTimes}; a process new in `after` counts from 0. A process that ended in
 * between (a Postgres backend whose pool let it go) reaches `after` as part of its parent's
 * reaped-children time with everything it ever spent, so what it had spent by `before` is
 * taken off that parent's growth again: otherwise a backend that lived for minutes and ended
 * during a one-second figure would add its whole life to it. Only where the parent is one of
 * these processes and grew by at least that much: a process something else reaped (a
 * health check's own Erlang VM) simply drops out, as one not yet reaped when its parent was
 * read does.
 */
export function sharedServiceCpu(
  before: ReturnType<typeof sharedServiceTimes>,
  after: ReturnType<typeof sharedServiceTimes>,
): { cpuMs: Record<string, number>; kernelMs: Record<string, number> } {
  const grown = new Map<number, { cpu: number; kernel: number; service: string }>();
  for (const [pid, b] of after) {
    const a = before.get(pid) ?? { user: 0, system: 0 };
    grown.set(pid, { cpu: (b.user + b.system - a.user - a.system) * 1000, kernel: (b.system - a.system) * 1000, service: b.service });
  }
  for (const [pid, a] of before) {
    const parent = after.has(pid) ? undefined : grown.get(a.parent);
    const lived = (a.user + a.system) * 1000;
    if (!parent || parent.cpu < lived) continue;
    parent.cpu -= lived;
    parent.kernel = Math.max(0, parent.kernel - a.system * 1000);
  }
  const cpuMs: Record<string, number> = {};
  const kernelMs: Record<string, number> = {};
  for (const g of grown.values()) {
    // clock ticks as float seconds: a difference of none can come out as -1e-16
    cpuMs[g.service] = (cpuMs[g.service] ?? 0) + Math.max(0, g.cpu);
    kernelMs[g.service] = (kernelMs[g.service] ?? 0) + Math.max(0, g.kernel);
  }
  return { cpuMs, kernelMs };
}
