/**
 * `npm run chaos`: the fault suite (ADR 0013). Starts its OWN PostgreSQL cluster,
 * RabbitMQ node, Redis and local S3 store on free ports (never the machine's shared
 * services), runs the platform with the launcher against them and, while uploads by many
 * citizens and their conversations are in flight, breaks one thing per experiment. Prints
 * one table and writes chaos-results/chaos-<time>.json.
 *
 *   CHAOS_ONLY=broker-kill,postgres-crash   run only these experiments
 *   CHAOS_UPLOADS=300 CHAOS_CONCURRENCY=50  workload per experiment (300 citizens, 50 at a time)
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { WriteStream, chmodSync, createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_S3_KEYS, encryptCompact, freePort } from '@dvd/testing';
import { jweOfSize, mintToken, setUpAuthority } from '../bench/context';
import { ROOT, launcherReady } from '../bench/platform';
import { findAppPid } from '../bench/processes';
import type { AppName, BenchAuthority } from '../bench/types';
import { mapLimit, sleep } from '../bench/util';
import { Answer, agent, apiJson, exchange, json, newKey, sha256, uploadWithKey, withRetries } from './client';
import { OwnPostgres, OwnRabbit, OwnRedis, OwnS3, startPostgres, startRabbit, startRedis, startS3 } from './infra';

const started = Date.now();
const log = (line: string) => console.log(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);

const UPLOADS = positive('CHAOS_UPLOADS', 300);
const CONCURRENCY = positive('CHAOS_CONCURRENCY', 50);
const PAYLOAD_BYTES = 256 * 1024;
const OUTAGE_MS = 10_000;
/** A fault starts this long after the workload, so that it hits requests in flight. */
const FAULT_AFTER_MS = 3_000;
/** Bound for "recovered without help": everything ROUTED and every service ready within this after the fault ended. */
const RECOVERY_BOUND_MS = 120_000;
/** How long one client keeps retrying one request. */
const CLIENT_RETRY_BUDGET_MS = 90_000;
const SERVICES = ['gateway', 'intake', 'routing-engine', 'communication', 'export-worker'] as const;
const ROUTED_OR_LATER = new Set(['ROUTED', 'ASSIGNED', 'EXPORTED']);

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v <= 0 || v > 100_000) throw new Error(`${name} must be a positive integer`);
  return v;
}

interface Infra {
  pg: OwnPostgres;
  rabbit: OwnRabbit;
  redis: OwnRedis;
  s3: OwnS3;
  database: string;
}

interface Platform {
  apiUrl: string;
  idpUrl: string;
  ports: Record<(typeof SERVICES)[number], number>;
  pidOf(app: AppName): number | null;
  stop(): Promise<void>;
}

interface Experiment {
  name: string;
  what: string;
  /** Breaks something and resolves when the fault has ended (the dependency is back, or the process was killed). */
  fault?: (infra: Infra, platform: Platform) => Promise<void>;
}

const outage = (svc: keyof Omit<Infra, 'database'>) => async (infra: Infra) => {
  await infra[svc].crash();
  await sleep(OUTAGE_MS);
  await infra[svc].restart();
};

const killApp = (app: AppName) => async (_infra: Infra, platform: Platform) => {
  const pid = platform.pidOf(app);
  if (pid === null) throw new Error(`no process found for ${app}`);
  process.kill(pid, 'SIGKILL');
  await waitUntil(async () => !isAlive(pid), 10_000); // gone: from here on the launcher must bring it back
};

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const EXPERIMENTS: Experiment[] = [
  { name: 'none', what: 'baseline, nothing breaks' },
  { name: 'broker-kill', what: 'kill -9 the RabbitMQ node, restart after 10 s', fault: outage('rabbit') },
  { name: 'postgres-crash', what: 'stop PostgreSQL immediately, restart after 10 s', fault: outage('pg') },
  ...SERVICES.map((app) => ({ name: `kill-${app}`, what: `kill -9 ${app} once (the launcher restarts it)`, fault: killApp(app) })),
  { name: 's3-down', what: 'local S3 store unreachable for 10 s', fault: outage('s3') },
  { name: 'redis-down', what: 'Redis stopped for 10 s', fault: outage('redis') },
];

interface Result {
  experiment: string;
  what: string;
  uploads: number;
  accepted: number;
  refused: Record<string, number>;
  lost: number;
  duplicates: number;
  deadLettered: number;
  conversations: { ok: number; failed: Record<string, number> };
  recoveredWithoutHelp: boolean;
  recoverySeconds: number | null;
  /** From the end of the fault until every app answered ready again (the workload still running). */
  readyAgainSeconds: number | null;
  retries: number;
  notes: string[];
}

// ---- platform -------------------------------------------------------------------------

async function startPlatform(infra: Infra, dataDir: string, bucket: string, logFile: WriteStream): Promise<Platform> {
  const launcher = join(ROOT, 'dist', 'tools', 'launcher', 'launch.js');
  if (!existsSync(launcher)) throw new Error('dist/tools/launcher/launch.js is missing: run `npm run build` first (`npm run chaos` does)');
  const names = [...SERVICES, 'realtime', 'realtime-stream', 'dev-idp', 'web'] as const;
  const ports = {} as Record<(typeof names)[number], number>;
  for (const n of names) ports[n] = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL: infra.pg.url(infra.database),
    AMQP_URL: infra.rabbit.amqpUrl,
    REDIS_URL: infra.redis.url,
    S3_ENDPOINT: infra.s3.endpoint,
    ...LOCAL_S3_KEYS,
    S3_BUCKET: bucket,
    DVD_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
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
    WEB_PORT: String(ports.web),
    BIND_HOST: '127.0.0.1',
    SHUTDOWN_GRACE_MS: '5000',
  };
  const child: ChildProcess = spawn(process.execPath, [launcher], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let tail = '';
  const onOutput = (c: Buffer) => {
    logFile.write(c);
    tail = (tail + c.toString()).slice(-8192);
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(kill);
    }
  };
  try {
    await launcherReady(child, exited, () => tail);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    apiUrl: `http://127.0.0.1:${ports.gateway}/api/v1`,
    idpUrl: `http://127.0.0.1:${ports['dev-idp']}`,
    ports,
    pidOf: (app) => (child.pid === undefined ? null : findAppPid(app, child.pid)),
    stop,
  };
}

async function allReady(platform: Platform): Promise<boolean> {
  const answers = await Promise.all(
    SERVICES.map((s) => exchange(`http://127.0.0.1:${platform.ports[s]}/health/ready`, { method: 'GET', headers: {}, timeoutMs: 5_000 })),
  );
  return answers.every((a) => a.status === 200);
}

async function deadLetters(infra: Infra): Promise<number> {
  const [broker, tables] = await Promise.all([
    infra.rabbit.deadLetterCount().catch(() => 0),
    infra.pg.deadLetterCount(infra.database).catch(() => 0),
  ]);
  return broker + tables;
}

// ---- one experiment -------------------------------------------------------------------

interface Citizen {
  token: string;
  jwe: Buffer;
  sha: string;
  key: string;
  documentId?: string;
  status?: number;
}

async function runExperiment(exp: Experiment, infra: Infra, platform: Platform, authority: BenchAuthority): Promise<Result> {
  const notes: string[] = [];
  const api = platform.apiUrl;
  await waitUntil(() => allReady(platform), 90_000).catch(() => notes.push('not every service was ready at the start'));
  const dlqBefore = await deadLetters(infra);
  const run = randomBytes(3).toString('hex');
  const token = mintToken(platform.idpUrl);
  log(`${exp.name}: minting ${UPLOADS} citizen tokens and payloads`);
  const template = await jweOfSize(authority.key, PAYLOAD_BYTES);
  const citizens: Citizen[] = await mapLimit(Array.from({ length: UPLOADS }), 32, async (_, i) => {
    // a distinct payload per citizen (the template with its own random ciphertext), so that sha256 tells them apart
    const jwe = Buffer.from(await encryptCompact(authority.key, Math.floor(((template.length - 400) * 3) / 4)));
    return { token: await token({ role: 'citizen', sub: `chaos-${exp.name}-${run}-${i}` }), jwe, sha: sha256(jwe), key: newKey() };
  });
  const messageBlob = await encryptCompact(authority.key, 64);

  log(
    `${exp.name}: ${UPLOADS} uploads of ${Math.round(template.length / 1024)} KiB, ${CONCURRENCY} at a time${exp.fault ? `; then: ${exp.what}` : ''}`,
  );
  let retries = 0;
  const conversations = { ok: 0, failed: [] as string[] };
  let faultEnded = Date.now();
  let readyAgainAt: number | null = null;
  const watchReadiness = async () => {
    const until = Date.now() + RECOVERY_BOUND_MS;
    while (Date.now() < until) {
      if (await allReady(platform).catch(() => false)) {
        readyAgainAt = Date.now();
        return;
      }
      await sleep(250);
    }
  };
  let readiness: Promise<void> = Promise.resolve();
  const workload = mapLimit(citizens, CONCURRENCY, async (c, i) => {
    const up = await withRetries(
      () => uploadWithKey(api, { token: c.token, authorityId: authority.id, jwe: c.jwe, key: c.key, reference: `CHAOS-${i}` }),
      CLIENT_RETRY_BUDGET_MS,
    );
    retries += up.attempts - 1;
    c.status = up.status;
    if (up.status !== 201 && up.status !== 200) return;
    c.documentId = json<{ id?: string }>(up)?.id;
    if (!c.documentId) return;
    // the conversation: a chat thread on the document and one message in it
    const thread = await withRetries(
      () => apiJson(api, c.token, 'POST', `/documents/${c.documentId}/threads`, { type: 'CHAT' }),
      CLIENT_RETRY_BUDGET_MS,
    );
    const threadId = thread.status === 201 ? json<{ id?: string }>(thread)?.id : undefined;
    const msg: Answer | undefined = threadId
      ? await withRetries(
          () => apiJson(api, c.token, 'POST', `/threads/${threadId}/messages`, { contentBlob: messageBlob }),
          CLIENT_RETRY_BUDGET_MS,
        )
      : undefined;
    if (msg?.status === 201) conversations.ok++;
    else conversations.failed.push(msg ? `message ${msg.status}` : `thread ${thread.status}`);
  });
  const fault = exp.fault
    ? sleep(FAULT_AFTER_MS)
        .then(() => log(`${exp.name}: fault: ${exp.what}`))
        .then(() => exp.fault!(infra, platform))
        .then(
          () => {
            faultEnded = Date.now();
            readiness = watchReadiness();
            log(`${exp.name}: fault over`);
          },
          (err: unknown) => {
            faultEnded = Date.now();
            notes.push(`fault injection failed: ${String(err)}`);
          },
        )
    : Promise.resolve();
  await Promise.all([workload, fault]);
  if (!exp.fault) {
    faultEnded = Date.now();
    readiness = watchReadiness();
  }
  await readiness;

  const accepted = citizens.filter((c) => c.documentId);
  const refused = countBy(citizens.filter((c) => !c.documentId).map((c) => String(c.status ?? 0)));
  log(`${exp.name}: ${accepted.length} accepted; waiting until they are ROUTED and every service is ready`);

  // recovery: every accepted document ROUTED (or later) and every service ready
  const pending = new Set(accepted);
  let recoveredAt: number | null = null;
  const deadline = faultEnded + RECOVERY_BOUND_MS;
  while (Date.now() < deadline) {
    const states = await mapLimit([...pending], 20, async (c) => {
      const r = await apiJson(api, c.token, 'GET', `/documents/${c.documentId}`);
      return { c, routed: r.status === 200 && ROUTED_OR_LATER.has(json<{ status?: string }>(r)?.status ?? '') };
    });
    for (const s of states) if (s.routed) pending.delete(s.c);
    if (pending.size === 0 && (await allReady(platform))) {
      recoveredAt = Date.now();
      break;
    }
    await sleep(500);
  }
  if (pending.size) notes.push(`${pending.size} accepted documents not ROUTED within ${RECOVERY_BOUND_MS / 1000} s`);

  // readable: the stored payload is the one that was sent
  const unreadable = new Set<Citizen>();
  const readable = mapLimit(accepted, 16, async (c) => {
    const r = await withRetries(
      () => exchange(`${api}/documents/${c.documentId}/payload`, { method: 'GET', headers: { authorization: `Bearer ${c.token}` } }),
      30_000,
    );
    if (r.status !== 200 || sha256(r.body) !== c.sha) unreadable.add(c);
  });
  // duplicates: one Idempotency-Key per citizen, so every document beyond the first is one
  let duplicates = 0;
  const unique = mapLimit(citizens, 16, async (c) => {
    const r = await withRetries(() => apiJson(api, c.token, 'GET', '/documents?limit=10'), 30_000);
    const n = json<{ items?: unknown[] }>(r)?.items?.length ?? 0;
    if (n > 1) duplicates += n - 1;
  });
  await Promise.all([readable, unique]);
  const lost = new Set([...pending, ...unreadable]).size;

  const result: Result = {
    experiment: exp.name,
    what: exp.what,
    uploads: UPLOADS,
    accepted: accepted.length,
    refused,
    lost,
    duplicates,
    deadLettered: Math.max(0, (await deadLetters(infra)) - dlqBefore),
    conversations: { ok: conversations.ok, failed: countBy(conversations.failed) },
    recoveredWithoutHelp: recoveredAt !== null && lost === 0,
    recoverySeconds: recoveredAt === null ? null : Math.round((recoveredAt - faultEnded) / 100) / 10,
    readyAgainSeconds: readyAgainAt === null ? null : Math.round(((readyAgainAt as number) - faultEnded) / 100) / 10,
    retries,
    notes,
  };
  log(`${exp.name}: ${JSON.stringify(result)}`);
  return result;
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

async function waitUntil(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(500);
  }
  throw new Error('timed out');
}

// ---- output ---------------------------------------------------------------------------

function table(results: Result[]): string {
  const head = [
    'experiment',
    'accepted',
    'refused',
    'lost',
    'dup',
    'DLQ',
    'conversations ok/failed',
    'recovered',
    'recovery s',
    'ready again s',
  ];
  const rows = results.map((r) => [
    r.experiment,
    `${r.accepted}/${r.uploads}`,
    Object.entries(r.refused)
      .map(([k, v]) => `${k}×${v}`)
      .join(' ') || '-',
    String(r.lost),
    String(r.duplicates),
    String(r.deadLettered),
    `${r.conversations.ok}/${Object.values(r.conversations.failed).reduce((a, b) => a + b, 0)}`,
    r.recoveredWithoutHelp ? 'yes' : 'NO',
    r.recoverySeconds === null ? '-' : String(r.recoverySeconds),
    r.readyAgainSeconds === null ? '-' : String(r.readyAgainSeconds),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' | ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

// ---- main -----------------------------------------------------------------------------

async function main() {
  const only = new Set(
    (process.env.CHAOS_ONLY ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const unknown = [...only].filter((n) => !EXPERIMENTS.some((e) => e.name === n));
  if (unknown.length)
    throw new Error(`CHAOS_ONLY names unknown experiments: ${unknown.join(', ')} (known: ${EXPERIMENTS.map((e) => e.name).join(', ')})`);
  const experiments = only.size ? EXPERIMENTS.filter((e) => only.has(e.name)) : EXPERIMENTS;

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const resultsDir = join(ROOT, 'chaos-results');
  mkdirSync(resultsDir, { recursive: true });
  const logPath = join(resultsDir, `chaos-${stamp}.log`);
  const logFile = createWriteStream(logPath);
  const id = randomBytes(3).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), 'dvd-chaos-'));
  chmodSync(dir, 0o755); // the postgres and rabbitmq users work below it
  const bucket = `dvd-chaos-${id}`;
  const cleanups: Array<[string, () => Promise<unknown>]> = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const [what, undo] of cleanups.reverse()) {
        await undo().catch((err: unknown) => log(`cleanup of ${what} failed: ${String(err)}`));
      }
      agent.destroy();
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      await new Promise<void>((r) => logFile.end(r));
    })());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: cleaning up`);
      void cleanup().then(() => process.exit(130));
    });
  }

  try {
    log(`own infrastructure in ${dir} (log of the platform: ${logPath})`);
    const toLog = (c: Buffer) => logFile.write(c);
    // all four at once; whichever started is stopped at the end, also when another failed
    const own = <T extends { stop(): Promise<void> }>(what: string, starting: Promise<T>) =>
      starting.then((svc) => {
        cleanups.push([what, () => svc.stop()]);
        return svc;
      });
    const [pg, rabbit, redis, s3] = await Promise.all([
      own('PostgreSQL', startPostgres(join(dir, 'pg'))),
      own('RabbitMQ', startRabbit(dir, id)),
      own('Redis', startRedis(toLog)),
      own('local S3', startS3(dir, bucket, join(__dirname, 's3-server.js'), toLog)),
    ]);
    const infra: Infra = { pg, rabbit, redis, s3, database: 'dvd' };
    log(`PostgreSQL :${pg.port}, RabbitMQ ${rabbit.node} :${rabbit.port}, Redis ${redis.url}, S3 ${s3.endpoint}`);

    const platform = await startPlatform(infra, join(dir, 'data'), bucket, logFile);
    cleanups.push(['platform', () => platform.stop()]);
    log(`platform ready: ${platform.apiUrl}`);
    const authority = await setUpAuthority(platform.apiUrl, mintToken(platform.idpUrl), log);

    const results: Result[] = [];
    for (const exp of experiments) results.push(await runExperiment(exp, infra, platform, authority));

    const out = join(resultsDir, `chaos-${stamp}.json`);
    writeFileSync(
      out,
      `${JSON.stringify({ startedAt: new Date(started).toISOString(), uploads: UPLOADS, concurrency: CONCURRENCY, payloadBytes: PAYLOAD_BYTES, results }, null, 2)}\n`,
    );
    console.log(`\n${table(results)}\n`);
    log(`results in ${out}; took ${Math.round((Date.now() - started) / 1000)} s`);
    for (const r of results) for (const n of r.notes) log(`${r.experiment}: ${n}`);
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[chaos] failed: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(1);
  },
);
