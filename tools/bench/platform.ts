import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { WriteStream, createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { Client } from 'pg';
import { BASE_AMQP_URL, BASE_DATABASE_URL, freeLauncherPorts, freePort } from '@dvd/testing';
import { devIdentityEnv, generateDevIdentityKeys } from '@dvd/platform';
// the launcher's Node options for the gateway, so that a second one runs as the first
import { nodeArgsOf } from '../launcher/node-args';
import { assertLoopback } from './http';
import { externalPidFinder, findAppPid } from './processes';
import { INSPECT_OPTION } from './profiler';
import { BenchProcess, spawnNode } from './spawn';
import type { AppName, DirectAccess, ServiceName } from './types';

const run = promisify(execFile);

export const ROOT = resolve(__dirname, '..', '..', '..');
const LAUNCHER = join(ROOT, 'dist', 'tools', 'launcher', 'launch.js');

/**
 * `sh -c RAISE_OPEN_FILES node script args…`: raises the soft limit of open files to the hard
 * limit (a process may do that without privileges), then becomes `node script args…`.
 */
export const RAISE_OPEN_FILES = 'ulimit -S -n "$(ulimit -H -n)"; exec "$0" "$@"';

/**
 * Resolves once the launcher printed "[dvd] ready" (its output collected by the caller,
 * read through `output`); rejects when it exits first or after 180 s.
 */
export function launcherReady(launcher: ChildProcess, exited: Promise<void>, output: () => string): Promise<void> {
  return new Promise<void>((ready, reject) => {
    const timer = setTimeout(() => reject(new Error(`platform not ready in 180 s:\n${output()}`)), 180_000);
    launcher.stdout!.on('data', () => {
      if (output().includes('[dvd] ready')) {
        clearTimeout(timer);
        ready();
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the launcher exited (${launcher.exitCode ?? launcher.signalCode}) before ready:\n${output()}`));
    });
  });
}

export interface BenchPlatform {
  mode: 'spawned' | 'external';
  gatewayUrl: string;
  idpUrl: string;
  direct: DirectAccess | null;
  pidOf(app: AppName): number | null;
  /** The launcher's output so far (last 8 KB), for error messages. */
  outputTail(): string;
  /** Idempotent; never throws. */
  stop(): Promise<void>;
}

/** BENCH_GATEWAY_URL: a platform someone else started (`npm start`); its dev IdP at BENCH_IDP_URL. */
export function externalPlatform(gatewayUrl: string): BenchPlatform {
  const gateway = assertLoopback(gatewayUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, ''), 'BENCH_GATEWAY_URL');
  const idp = assertLoopback(process.env.BENCH_IDP_URL ?? `http://127.0.0.1:${process.env.DEV_IDP_PORT ?? 3100}`, 'BENCH_IDP_URL');
  return {
    mode: 'external',
    gatewayUrl: gateway.origin,
    idpUrl: idp.origin,
    direct: null,
    pidOf: externalPidFinder(Number(gateway.port || 80)),
    outputTail: () => '',
    stop: async () => undefined,
  };
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Deletes every key under the run's own REDIS_KEY_PREFIX (routing-rule cache, rate-limit windows). */
async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function adminQuery(sql: string): Promise<void> {
  const c = new Client({ connectionString: BASE_DATABASE_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/**
 * Starts the platform as `npm start` does (the compiled launcher) on a database, vhost,
 * data folder, bucket, Redis key prefix and ports of its own, with known identity
 * keys (for direct calls) and rate limits out of the way. `stop()` undoes all of it.
 */
export async function spawnPlatform(o: {
  logFile: string;
  log: (line: string) => void;
  /** Receives `stop` at once, so that an interrupt during start-up cleans up too. */
  onStop?: (stop: () => Promise<void>) => void;
  /** Every process with an inspector on a random loopback port, for CPU profiles (`--profile`). */
  inspect?: boolean;
}): Promise<BenchPlatform> {
  if (!existsSync(LAUNCHER)) throw new Error('dist/tools/launcher/launch.js is missing: run `npm run build` first (`npm run bench` does)');
  const id = randomBytes(4).toString('hex');
  const dbName = `dvd_bench_test_${id}`;
  if (!dbName.includes('test')) throw new Error('refusing a database name without "test"');
  const vhost = `dvd-bench-test-${id}`;
  const bucket = `dvd-bench-${id}`;
  const identityKeys = generateDevIdentityKeys(`bench-${id}`);
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redisPrefix = `dvd-bench-${id}:`;

  const cleanups: Array<[string, () => Promise<unknown>]> = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let logStream: WriteStream | undefined;
  let tail = '';
  let stopping: Promise<void> | undefined;

  const stopNow = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child?.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(kill);
    }
    for (const [what, undo] of cleanups.reverse()) {
      await undo().catch((err: unknown) => o.log(`cleanup of ${what} failed: ${String(err)}`));
    }
    await new Promise<void>((r) => (logStream ? logStream.end(r) : r()));
  };
  // every caller (interrupt, failed start, normal end) waits for the same, complete cleanup
  const stop = () => (stopping ??= stopNow());
  /** Records how to undo a step; when stopping began meanwhile, undoes it at once and ends the start. */
  const track = async (what: string, undo: () => Promise<unknown>) => {
    if (stopping) {
      await undo().catch(() => undefined);
      throw new Error('interrupted while starting');
    }
    cleanups.push([what, undo]);
  };

  o.onStop?.(stop);
  try {
    await adminQuery(`CREATE DATABASE "${dbName}"`);
    await track(`database ${dbName}`, () => adminQuery(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
    await run('rabbitmqctl', ['-q', 'add_vhost', vhost]);
    await track(`vhost ${vhost}`, () => run('rabbitmqctl', ['-q', 'delete_vhost', vhost]));
    await run('rabbitmqctl', ['-q', 'set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*']);
    const dataDir = await mkdtemp(join(tmpdir(), 'dvd-bench-'));
    await track(`data folder ${dataDir}`, () => rm(dataDir, { recursive: true, force: true }));
    await track(`Redis keys ${redisPrefix}*`, () => deleteRedisKeys(redisUrl, redisPrefix));

    const ports = await freeLauncherPorts();
    const amqp = new URL(BASE_AMQP_URL);
    amqp.pathname = `/${encodeURIComponent(vhost)}`;
    const databaseUrl = withDatabase(BASE_DATABASE_URL, dbName);
    const s3 = {
      endpoint: `http://127.0.0.1:${ports.s3}`,
      bucket,
      region: 'eu-central-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    };
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      DATABASE_URL: databaseUrl,
      AMQP_URL: amqp.toString(),
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: redisPrefix,
      DVD_DATA_DIR: dataDir,
      S3_BUCKET: bucket,
      S3_REGION: s3.region,
      LOG_LEVEL: 'warn',
      DVD_DEV_IDENTITY_KEYS: JSON.stringify(identityKeys),
      RATE_LIMIT_CITIZEN_PER_MIN: '1000000',
      RATE_LIMIT_OFFICIAL_PER_MIN: '1000000',
      GATEWAY_PORT: String(ports.gateway),
      INTAKE_PORT: String(ports.intake),
      ROUTING_ENGINE_PORT: String(ports['routing-engine']),
      COMMUNICATION_PORT: String(ports.communication),
      EXPORT_WORKER_PORT: String(ports['export-worker']),
      REALTIME_PORT: String(ports.realtime),
      REALTIME_STREAM_PORT: String(ports['realtime-stream']),
      DEV_IDP_PORT: String(ports['dev-idp']),
      LOCAL_S3_PORT: String(ports.s3),
      WEB_PORT: String(ports.web),
      BIND_HOST: '127.0.0.1',
      // BENCH_NODE_OPTIONS: V8 or Node flags for every platform process (e.g. to try GC settings)
      ...(o.inspect || process.env.BENCH_NODE_OPTIONS
        ? { NODE_OPTIONS: [o.inspect ? INSPECT_OPTION : '', process.env.BENCH_NODE_OPTIONS ?? ''].join(' ').trim() }
        : {}),
    };

    if (stopping) throw new Error('interrupted while starting');
    logStream = createWriteStream(o.logFile);
    // the apps may hold many connections (the realtime benchmark: 10,000 streams): the soft limit of
    // open files up to the hard one, for the launcher and so for every app it starts (never above it)
    child = spawn('sh', ['-c', RAISE_OPEN_FILES, process.execPath, LAUNCHER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const launcher = child;
    exited = new Promise<void>((r) => launcher.once('exit', () => r()));
    const onOutput = (c: Buffer) => {
      logStream?.write(c);
      tail = (tail + c.toString()).slice(-8192);
    };
    launcher.stdout!.on('data', onOutput);
    launcher.stderr!.on('data', onOutput);

    o.log(`starting the platform (database ${dbName}, vhost ${vhost}, gateway port ${ports.gateway}; log in ${o.logFile})`);
    await launcherReady(launcher, exited, () => tail);

    const idpUrl = `http://127.0.0.1:${ports['dev-idp']}`;
    /** A second gateway as the launcher would start it, on a port of its own, with `overrides` (e.g. other upstreams). */
    const spawnGateway = async (overrides: Record<string, string>): Promise<BenchProcess> => {
      const port = await freePort();
      const gateway = await spawnNode({
        name: 'gateway (bench)',
        script: join(ROOT, 'dist', 'apps', 'gateway', 'src', 'main.js'),
        nodeArgs: nodeArgsOf('gateway'),
        env: {
          ...env,
          GATEWAY_PORT: String(port),
          INTAKE_URL: `http://127.0.0.1:${ports.intake}`,
          ROUTING_ENGINE_URL: `http://127.0.0.1:${ports['routing-engine']}`,
          COMMUNICATION_URL: `http://127.0.0.1:${ports.communication}`,
          EXPORT_WORKER_URL: `http://127.0.0.1:${ports['export-worker']}`,
          REALTIME_URL: `http://127.0.0.1:${ports.realtime}`,
          REALTIME_STREAM_URL: `http://127.0.0.1:${ports['realtime-stream']}`,
          CITIZEN_ISSUER: `${idpUrl}/citizen`,
          CITIZEN_JWKS_URI: `${idpUrl}/citizen/jwks.json`,
          OFFICIAL_ISSUER: `${idpUrl}/official`,
          OFFICIAL_JWKS_URI: `${idpUrl}/official/jwks.json`,
          ...devIdentityEnv(identityKeys, 'gateway'),
          ...overrides,
        },
        log: logStream,
        readyUrl: `http://127.0.0.1:${port}/health/ready`,
      });
      await track(`bench gateway pid ${gateway.pid}`, () => gateway.stop());
      return gateway;
    };
    const servicePorts: Record<ServiceName, number> = {
      intake: ports.intake,
      'routing-engine': ports['routing-engine'],
      communication: ports.communication,
      'export-worker': ports['export-worker'],
    };
    return {
      mode: 'spawned',
      gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
      idpUrl,
      direct: {
        ports: servicePorts,
        serviceUrl: (service) => `http://127.0.0.1:${servicePorts[service]}`,
        identityKeys,
        s3,
        databaseUrl,
        amqpUrl: amqp.toString(),
        redis: { url: redisUrl, prefix: redisPrefix },
        gatewayPort: ports.gateway,
        realtimePort: ports.realtime,
        realtimeStreamPort: ports['realtime-stream'],
        idpUrl,
        env,
        spawnGateway,
      },
      pidOf: (app) => (launcher.pid === undefined ? null : findAppPid(app, launcher.pid)),
      outputTail: () => tail,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
