import { ChildProcess, spawn } from 'node:child_process';
import { freePort, pollUntil } from './infra';

export interface VersionedS3 {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * An S3-compatible store that implements bucket versioning (ListObjectVersions, delete
 * markers), which s3rver does not: moto's standalone server (`moto_server`, from the
 * Python package moto that the development and CI machines carry), on a free loopback
 * port, state in memory, stopped with the test. Tests only.
 */
export async function startVersionedS3(): Promise<VersionedS3> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.env.MOTO_SERVER_BIN ?? 'moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let exited: string | undefined;
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  child.once('error', (err) => (exited = err.message));
  child.once('exit', (code) => (exited ??= `exited with ${code}`));
  const endpoint = `http://127.0.0.1:${port}`;
  await pollUntil(
    async () => {
      if (exited) throw new Error(`moto_server ${exited}: ${stderr}`);
      return (await fetch(`${endpoint}/`).catch(() => undefined))?.ok;
    },
    { what: 'moto_server to answer', timeoutMs: 30_000, intervalMs: 200 },
  );
  return {
    endpoint,
    stop: async () => {
      if (exited || child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
