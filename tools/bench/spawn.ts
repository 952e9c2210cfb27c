import { ChildProcess, spawn } from 'node:child_process';
import type { Writable } from 'node:stream';

/** A process the bench started for one benchmark (a reference server, a second gateway). */
export interface BenchProcess {
  name: string;
  pid: number;
  url: string;
  /** SIGTERM, then SIGKILL after 10 s; idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `node [nodeArgs] <script>` and resolves when it is ready: when it prints `listening on <port>`,
 * or (with `readyUrl`) when that URL answers 2xx. Its output goes to `log`.
 */
export async function spawnNode(o: {
  name: string;
  script: string;
  /** Node options before the script (e.g. the launcher's for that app). */
  nodeArgs?: string[];
  env: Record<string, string | undefined>;
  log?: Writable;
  /** Poll this URL for readiness instead of waiting for `listening on <port>`. */
  readyUrl?: string;
  timeoutMs?: number;
}): Promise<BenchProcess> {
  const child: ChildProcess = spawn(process.execPath, [...(o.nodeArgs ?? []), o.script], {
    env: o.env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exited = false;
  const gone = new Promise<void>((r) =>
    child.once('exit', () => {
      exited = true;
      r();
    }),
  );
  const onOutput = (c: Buffer) => {
    output = (output + c.toString()).slice(-4096);
    o.log?.write(c);
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(kill);
  };
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  try {
    while (Date.now() < deadline) {
      if (exited) throw new Error(`${o.name} exited before it was ready:\n${output}`);
      if (o.readyUrl) {
        const ok = await fetch(o.readyUrl, { signal: AbortSignal.timeout(2_000) }).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return { name: o.name, pid: child.pid!, url: new URL(o.readyUrl).origin, stop };
      } else {
        const m = /listening on (\d+)/.exec(output);
        if (m) return { name: o.name, pid: child.pid!, url: `http://127.0.0.1:${m[1]}`, stop };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${o.name} not ready in ${Math.round((o.timeoutMs ?? 60_000) / 1000)} s:\n${output}`);
  } catch (err) {
    await stop();
    throw err;
  }
}
