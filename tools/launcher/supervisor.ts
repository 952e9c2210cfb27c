import { ChildProcess, SpawnOptions, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  stdio?: SpawnOptions['stdio'];
}

export interface SupervisorOptions {
  /** First restart delay; doubles with every crash in a row. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A child that ran at least this long counts as healthy: its next crash restarts after `initialBackoffMs` again. */
  resetAfterMs?: number;
  /** How long a child may take to stop after SIGTERM before it is killed. */
  stopTimeoutMs?: number;
  log?: (line: string) => void;
}

/** Restart delay after `crashesInARow` consecutive crashes (1 → initial, 2 → 2 × initial, …, capped). */
export function backoffMs(crashesInARow: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, crashesInARow - 1));
}

interface Supervised {
  spec: ChildSpec;
  child?: ChildProcess;
  startedAt: number;
  crashesInARow: number;
  restarts: number;
  timer?: NodeJS.Timeout;
}

/**
 * Keeps named child processes running (ADR 0013): a child that exits while the supervisor
 * is not stopping is restarted after an exponential backoff (reset once it stayed up for
 * `resetAfterMs`); the others keep running. `stopAll()` sends SIGTERM to every child
 * (each drains its in-flight requests) and SIGKILL to whoever outlives `stopTimeoutMs`.
 *
 * Events: `spawn` (name, pid), `exit` (name, code, signal), `restart` (name, delayMs, restarts).
 */
export class Supervisor extends EventEmitter {
  private readonly children = new Map<string, Supervised>();
  private stopping = false;
  private readonly o: Required<SupervisorOptions>;

  constructor(o: SupervisorOptions = {}) {
    super();
    this.o = {
      initialBackoffMs: o.initialBackoffMs ?? 500,
      maxBackoffMs: o.maxBackoffMs ?? 30_000,
      resetAfterMs: o.resetAfterMs ?? 60_000,
      stopTimeoutMs: o.stopTimeoutMs ?? 20_000,
      log: o.log ?? (() => undefined),
    };
  }

  start(spec: ChildSpec): void {
    if (this.stopping) throw new Error('the supervisor is stopping');
    if (this.children.has(spec.name)) throw new Error(`${spec.name} is already supervised`);
    const entry: Supervised = { spec, startedAt: 0, crashesInARow: 0, restarts: 0 };
    this.children.set(spec.name, entry);
    this.launch(entry);
  }

  pid(name: string): number | undefined {
    return this.children.get(name)?.child?.pid;
  }

  /** The running process of `name` (its pipes, when `stdio` asked for them). */
  child(name: string): ChildProcess | undefined {
    return this.children.get(name)?.child;
  }

  restarts(name: string): number {
    return this.children.get(name)?.restarts ?? 0;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Stops every child (SIGTERM, then SIGKILL after `stopTimeoutMs`); no restarts from here on. Idempotent. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.children.values()].map((entry) => {
        clearTimeout(entry.timer);
        const child = entry.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        return new Promise<void>((done) => {
          const kill = setTimeout(() => child.kill('SIGKILL'), this.o.stopTimeoutMs);
          child.once('exit', () => {
            clearTimeout(kill);
            done();
          });
          child.kill('SIGTERM');
        });
      }),
    );
  }

  private launch(entry: Supervised): void {
    const { spec } = entry;
    const child = spawn(spec.command, spec.args, { env: spec.env, stdio: spec.stdio ?? ['ignore', 'inherit', 'inherit'] });
    entry.child = child;
    entry.startedAt = Date.now();
    child.once('spawn', () => this.emit('spawn', spec.name, child.pid));
    child.once('error', (err) => this.o.log(`${spec.name} could not be started: ${err.message}`));
    child.once('exit', (code, signal) => {
      this.emit('exit', spec.name, code, signal);
      if (this.stopping) return;
      const upMs = Date.now() - entry.startedAt;
      entry.crashesInARow = upMs >= this.o.resetAfterMs ? 1 : entry.crashesInARow + 1;
      entry.restarts++;
      const delay = backoffMs(entry.crashesInARow, this.o.initialBackoffMs, this.o.maxBackoffMs);
      this.o.log(
        `${spec.name} exited (${signal ?? `code ${code}`}) after ${(upMs / 1000).toFixed(1)} s; ` +
          `restarting in ${delay} ms (restart ${entry.restarts}, ${entry.crashesInARow} in a row)`,
      );
      this.emit('restart', spec.name, delay, entry.restarts);
      entry.timer = setTimeout(() => {
        if (!this.stopping) this.launch(entry);
      }, delay);
    });
  }
}
