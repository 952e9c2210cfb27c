import { ChildProcess, execFile, spawn } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort, pollUntil } from '@dvd/testing';

const run = promisify(execFile);
const PG_BIN = process.env.CHAOS_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** A dependency the suite owns and may break: never one of the machine's shared services. */
export interface OwnService {
  /** Crash (kill -9 / immediate stop). */
  crash(): Promise<void>;
  /** Start again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stop for good (end of the run). Never throws. */
  stop(): Promise<void>;
}

function owner(dir: string, user: string): void {
  const { uid, gid } = idOf(user);
  chownSync(dir, uid, gid);
}

const ids = new Map<string, { uid: number; gid: number }>();
function idOf(user: string): { uid: number; gid: number } {
  let id = ids.get(user);
  if (!id) {
    const passwd = readFileSync('/etc/passwd', 'utf8');
    const line = passwd.split('\n').find((l) => l.startsWith(`${user}:`));
    if (!line) throw new Error(`no user ${user} on this machine`);
    const cols = line.split(':');
    id = { uid: Number(cols[2]), gid: Number(cols[3]) };
    ids.set(user, id);
  }
  return id;
}

// ---- RabbitMQ ------------------------------------------------------------------------

export interface OwnRabbit extends OwnService {
  node: string;
  port: number;
  amqpUrl: string;
  /** Messages waiting in every `*.dlq` queue of the node (all vhosts). */
  deadLetterCount(): Promise<number>;
}

export async function startRabbit(dir: string, id: string): Promise<OwnRabbit> {
  const node = `dvdchaos${id}@localhost`;
  const port = await freePort();
  const distPort = await freePort();
  const base = join(dir, 'rabbitmq');
  for (const d of [base, join(base, 'mnesia'), join(base, 'log')]) {
    mkdirSync(d, { recursive: true });
    owner(d, 'rabbitmq');
  }
  const config = join(base, 'rabbitmq.conf');
  // the machine's config pins the shared node's port: this node has a config of its own
  writeFileSync(config, `listeners.tcp.default = 127.0.0.1:${port}\nloopback_users.guest = true\n`);
  const plugins = join(base, 'enabled_plugins');
  writeFileSync(plugins, '[].\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(base, 'mnesia'),
    RABBITMQ_LOG_BASE: join(base, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: plugins,
    RABBITMQ_CONFIG_FILE: config,
  };
  const ctl = (...args: string[]) => run('rabbitmqctl', ['-n', node, ...args], { env, timeout: 60_000 });
  let beamPid = 0;
  const start = async () => {
    await run('rabbitmq-server', ['-detached'], { env, timeout: 60_000 });
    await pollUntil(async () => (await ctl('-q', 'await_startup', '--timeout', '5').then(() => true)) || null, {
      timeoutMs: 90_000,
      intervalMs: 500,
      what: `RabbitMQ node ${node}`,
    });
    beamPid = Number(/\d+/.exec((await ctl('eval', 'os:getpid().')).stdout)?.[0]);
  };
  await start();
  return {
    node,
    port,
    amqpUrl: `amqp://guest:guest@127.0.0.1:${port}`,
    crash: async () => {
      if (beamPid) process.kill(beamPid, 'SIGKILL');
      await pollUntil(async () => !alive(beamPid), { timeoutMs: 10_000, what: 'the broker to die' });
    },
    restart: start,
    stop: async () => {
      await ctl('stop').catch(() => undefined);
      if (beamPid && alive(beamPid)) process.kill(beamPid, 'SIGKILL');
    },
    deadLetterCount: async () => {
      const { stdout } = await ctl('-q', 'list_queues', '-p', '/', 'name', 'messages', '--no-table-headers');
      let n = 0;
      for (const line of stdout.split('\n')) {
        const [name, count] = line.trim().split(/\s+/);
        if (name?.endsWith('.dlq')) n += Number(count) || 0;
      }
      return n;
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// ---- PostgreSQL ----------------------------------------------------------------------

export interface OwnPostgres extends OwnService {
  port: number;
  url(database: string): string;
  /** Rows in `<schema>.dead_letters` of every service schema that has one. */
  deadLetterCount(database: string): Promise<number>;
}

export async function startPostgres(dir: string): Promise<OwnPostgres> {
  const data = join(dir, 'pg-data');
  const sockets = join(dir, 'pg-sockets');
  for (const d of [dir, data, sockets]) mkdirSync(d, { recursive: true });
  for (const d of [data, sockets]) owner(d, 'postgres');
  owner(dir, 'postgres'); // initdb needs to traverse it
  const port = await freePort();
  const asPostgres = (bin: string, args: string[]) =>
    run('runuser', ['-u', 'postgres', '--', join(PG_BIN, bin), ...args], { timeout: 120_000 });
  await asPostgres('initdb', ['-D', data, '--auth=trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const start = async () => {
    await asPostgres('pg_ctl', [
      '-D',
      data,
      '-l',
      join(sockets, 'postgres.log'),
      '-w',
      '-o',
      `-p ${port} -k ${sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      'start',
    ]);
  };
  await start();
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    crash: async () => void (await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', 'stop'])),
    restart: start,
    stop: async () => void (await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined)),
    deadLetterCount: async (database) => {
      const c = new Client({ connectionString: url(database) });
      await c.connect();
      try {
        const tables = await c.query<{ schema: string }>(
          `SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'dead_letters'`,
        );
        let n = 0;
        for (const t of tables.rows) {
          const r = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${t.schema.replace(/"/g, '')}".dead_letters`);
          n += Number(r.rows[0].n);
        }
        return n;
      } finally {
        await c.end();
      }
    },
  };
}

// ---- child-process services (Redis, the local S3 store) -----------------------------

/** A process the suite runs itself; `crash` kills it with SIGKILL, `restart` starts it the same way. */
async function processService(o: {
  what: string;
  command: string;
  args: string[];
  port: number;
  logTo: (chunk: Buffer) => void;
}): Promise<OwnService> {
  let child: ChildProcess | undefined;
  const start = async () => {
    const c = spawn(o.command, o.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout?.on('data', o.logTo);
    c.stderr?.on('data', o.logTo);
    child = c;
    await pollUntil(async () => (c.exitCode !== null ? Promise.reject(new Error(`${o.what} exited`)) : portOpen(o.port)), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: `${o.what} on port ${o.port}`,
    });
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  return { crash: kill, restart: start, stop: () => kill().catch(() => undefined) };
}

async function portOpen(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface OwnRedis extends OwnService {
  url: string;
}

export async function startRedis(logTo: (c: Buffer) => void): Promise<OwnRedis> {
  const port = await freePort();
  const svc = await processService({
    what: 'redis-server',
    command: 'redis-server',
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    port,
    logTo,
  });
  return { ...svc, url: `redis://127.0.0.1:${port}` };
}

export interface OwnS3 extends OwnService {
  endpoint: string;
}

/** The local S3 store (s3rver) in a process of its own, so that it can be taken away and brought back. */
export async function startS3(dir: string, bucket: string, script: string, logTo: (c: Buffer) => void): Promise<OwnS3> {
  const port = await freePort();
  const svc = await processService({
    what: 'the local S3 store',
    command: process.execPath,
    args: [script, join(dir, 's3'), String(port), bucket],
    port,
    logTo,
  });
  return { ...svc, endpoint: `http://127.0.0.1:${port}` };
}
