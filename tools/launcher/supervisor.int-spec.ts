import { once } from 'node:events';
import { backoffMs, Supervisor } from './supervisor';

/** A child that runs until signalled; on SIGTERM it exits 0 (as a draining service does). */
const LONG_RUNNING = `process.on('SIGTERM', () => process.exit(0)); setInterval(() => undefined, 1000); console.log('ready');`;

function nextEvent<T extends unknown[]>(s: Supervisor, event: string, name: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (...args: unknown[]) => {
      if (args[0] !== name) return;
      s.off(event, on);
      resolve(args.slice(1) as T);
    };
    s.on(event, on);
  });
}

describe('backoffMs', () => {
  it('doubles per crash in a row and is capped', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffMs(n, 500, 8_000))).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
  });
});

describe('Supervisor (real child processes)', () => {
  const supervisors: Supervisor[] = [];
  const make = (o: ConstructorParameters<typeof Supervisor>[0] = {}) => {
    const s = new Supervisor({ initialBackoffMs: 50, maxBackoffMs: 400, resetAfterMs: 60_000, stopTimeoutMs: 5_000, ...o });
    supervisors.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of supervisors.splice(0)) await s.stopAll();
  });

  const spec = (name: string, script: string) => ({
    name,
    command: process.execPath,
    args: ['-e', script],
    env: process.env,
    stdio: 'ignore' as const,
  });

  it('restarts a killed child and leaves the others running', async () => {
    const lines: string[] = [];
    const s = make({ log: (l) => lines.push(l) });
    const firstA = nextEvent<[number]>(s, 'spawn', 'a');
    const firstB = nextEvent<[number]>(s, 'spawn', 'b');
    s.start(spec('a', LONG_RUNNING));
    s.start(spec('b', LONG_RUNNING));
    const [pidA] = await firstA;
    const [pidB] = await firstB;

    const respawned = nextEvent<[number]>(s, 'spawn', 'a');
    process.kill(pidA, 'SIGKILL');
    const [newPidA] = await respawned;

    expect(newPidA).not.toBe(pidA);
    expect(s.restarts('a')).toBe(1);
    expect(s.restarts('b')).toBe(0);
    expect(s.pid('b')).toBe(pidB);
    expect(() => process.kill(pidB, 0)).not.toThrow(); // b still alive
    expect(lines.join('\n')).toMatch(/a exited \(SIGKILL\).*restarting in 50 ms/);
  });

  it('backs off exponentially while a child keeps crashing', async () => {
    const s = make();
    const delays: number[] = [];
    const fourth = new Promise<void>((resolve) =>
      s.on('restart', (_name: string, delay: number) => {
        delays.push(delay);
        if (delays.length === 4) resolve();
      }),
    );
    s.start(spec('crashy', 'process.exit(3)'));
    await fourth;
    expect(delays).toEqual([50, 100, 200, 400]);
  });

  it('stops every child with SIGTERM and restarts none of them', async () => {
    const s = make();
    const spawned = nextEvent<[number]>(s, 'spawn', 'a');
    s.start({ ...spec('a', LONG_RUNNING), stdio: ['ignore', 'pipe', 'ignore'] });
    const [pid] = await spawned;
    await once(s.child('a')!.stdout!, 'data'); // its SIGTERM handler is installed
    const exited = nextEvent<[number | null, string | null]>(s, 'exit', 'a');
    let restarted = false;
    s.on('restart', () => (restarted = true));
    await s.stopAll();
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null }); // exited by its own SIGTERM handler
    expect(restarted).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(() => s.start(spec('late', LONG_RUNNING))).toThrow(/stopping/);
  });
});
