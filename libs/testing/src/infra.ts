import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);

/** A short unique id for this test process: names of databases, vhosts and buckets. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export const BASE_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const BASE_AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A fresh, empty database for one test file (services migrate it at start). The guard
 * refuses any name without `test`, so a misconfigured run cannot touch real data.
 */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = uniqueName('dvd_test');
  if (!name.includes('test')) throw new Error('refusing to use a database whose name lacks "test"');
  const admin = new Client({ connectionString: BASE_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  return {
    url: withDatabase(BASE_DATABASE_URL, name),
    name,
    drop: async () => {
      const c = new Client({ connectionString: BASE_DATABASE_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A RabbitMQ virtual host of its own, so parallel test files never share queues. */
export async function createTestVhost(): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = uniqueName('dvd-test');
  await run('rabbitmqctl', ['-q', 'add_vhost', name]);
  await run('rabbitmqctl', ['-q', 'set_permissions', '-p', name, 'guest', '.*', '.*', '.*']);
  const u = new URL(BASE_AMQP_URL);
  u.pathname = `/${encodeURIComponent(name)}`;
  return {
    url: u.toString(),
    name,
    drop: async () => void (await run('rabbitmqctl', ['-q', 'delete_vhost', name]).catch(() => undefined)),
  };
}

/**
 * Messages in a queue of a test vhost, ready and unacknowledged together. 0 means every
 * delivery so far has been settled (a service acks only after its handler committed), so
 * nothing more will come of them: a barrier for "this event changed nothing".
 */
export async function queueDepth(vhost: string, queue: string): Promise<number> {
  const { stdout } = await run('rabbitmqctl', ['-q', '--no-table-headers', 'list_queues', '-p', vhost, 'name', 'messages']);
  for (const line of stdout.split('\n')) {
    const [name, messages] = line.trim().split('\t');
    if (name === queue) return Number(messages);
  }
  throw new Error(`no queue ${queue} in vhost ${vhost}`);
}

/** Waits until every message of a queue is settled (none ready, none unacknowledged). */
export async function queueSettled(vhost: string, queue: string, o: { timeoutMs?: number } = {}): Promise<void> {
  await pollUntil(async () => (await queueDepth(vhost, queue)) === 0, {
    timeoutMs: o.timeoutMs,
    intervalMs: 50,
    what: `queue ${queue} settled`,
  });
}

/** What `npm start`'s launcher listens on, by name (each has a `*_PORT` variable). */
export const LAUNCHER_PORT_NAMES = [
  'gateway',
  'intake',
  'routing-engine',
  'communication',
  'export-worker',
  'realtime',
  'realtime-stream',
  'dev-idp',
  's3',
  'web',
] as const;
export type LauncherPorts = Record<(typeof LAUNCHER_PORT_NAMES)[number], number>;

/** A free port for every one the launcher listens on: a platform of its own beside others. */
export async function freeLauncherPorts(): Promise<LauncherPorts> {
  const ports = {} as LauncherPorts;
  for (const n of LAUNCHER_PORT_NAMES) ports[n] = await freePort();
  return ports;
}

/** Ports handed out by this process: never twice (a server may not be listening on it yet). */
const handedOut = new Set<number>();
const PORT_BASE = 20_000;
const PORT_BLOCK = 1_200;

/**
 * A free port on 127.0.0.1 for a server a test (or the bench) starts and the port is passed
 * to. Taken below the kernel's ephemeral range (32768 and up), where outgoing connections get
 * their local ports, from a block of its own per Jest worker (`JEST_WORKER_ID`): between
 * choosing a port and a server binding it (seconds, for a platform's service) no other suite
 * picks it. With port 0 one could, and a platform's gateway once reached another suite's
 * service, which answered its health check and 404 for the route.
 */
export async function freePort(): Promise<number> {
  const block = Number(process.env.JEST_WORKER_ID ?? 0) % 10;
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = PORT_BASE + block * PORT_BLOCK + randomInt(PORT_BLOCK);
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  // the block is crowded (a long-lived process): the kernel's choice
  const port = await listenOnce(0);
  handedOut.add(port);
  return port;
}

async function canListen(port: number): Promise<boolean> {
  return listenOnce(port).then(
    () => true,
    () => false,
  );
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const bound = (srv.address() as { port: number }).port;
      srv.close(() => resolve(bound));
    });
  });
}

/** Polls until `check` returns a truthy value (asynchronous effects without sleeps). */
export async function pollUntil<T>(
  check: () => Promise<T | undefined | null | false>,
  o: { timeoutMs?: number; intervalMs?: number; what?: string; diagnose?: () => Promise<string> } = {},
): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 15_000);
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const diagnosis = o.diagnose ? await o.diagnose().catch((e: unknown) => `diagnosis failed: ${String(e)}`) : '';
      throw new Error(
        (diagnosis ? `[${diagnosis}] ` : '') +
          `pollUntil timed out${o.what ? ` waiting for ${o.what}` : ''}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 100));
  }
}
