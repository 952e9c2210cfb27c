import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { EVENTS_EXCHANGE, EventEnvelope, EventMap, EventType } from '@dvd/contracts';
import { devIdentityEnv } from '@dvd/platform';
import { freePort, pollUntil } from '@dvd/testing';
// the launcher's Node options for gateway and realtime, so that the pairs here run as the launcher's would
import { nodeArgsOf } from '../launcher/node-args';
import { RAISE_OPEN_FILES, ROOT } from './platform';
import type { BenchContext, BenchResult, DirectAccess, TokenRequest } from './types';
import { MiB, round, sleep } from './util';

/** What the issue asks of the stream, printed next to each figure. */
const GOAL = { streams: 10_000, errors: 0, p99Ms: 1_000, totalRssMiB: 1_024 };
const AUTHORITIES = 10;
const STREAMS_PER_USER = 2;
/** Share of the streams held by officials (the rest: citizens). */
const STAFF_SHARE = 0.1;
const ROUNDS = 5;
/** A round's events are published over this long (not in one burst), then a pause of the same length. */
const ROUND_MS = 1_000;

interface ClientMessage {
  kind: 'opened' | 'stats';
  [key: string]: unknown;
}

/** A replica of an app, started like the launcher starts it (and with the open-files limit raised). */
function startReplica(app: 'gateway' | 'realtime', env: Record<string, string>): ChildProcess {
  return spawn('sh', ['-c', RAISE_OPEN_FILES, process.execPath, ...nodeArgsOf(app), join(ROOT, 'dist', 'apps', app, 'src', 'main.js')], {
    env,
    stdio: 'ignore',
  });
}

async function ready(url: string, what: string) {
  await pollUntil(async () => (await fetch(`${url}/health/ready`).catch(() => null))?.status === 200, {
    what,
    timeoutMs: 60_000,
    intervalMs: 250,
  });
}

interface RealtimeReplica {
  url: string;
  streamUrl: string;
  pid: number;
}

/**
 * Starts a gateway, as the launcher starts it, in front of a realtime replica: the one given,
 * or a new one. A fresh gateway, not the launcher's: that one has carried the other
 * benchmarks' uploads, and what its heap kept from them is not the streams' memory. (The
 * launcher's realtime has only read the broker's stream; every replica does, and a third
 * reader would take CPU from the two that deliver.)
 */
async function startPair(d: DirectAccess, existing?: RealtimeReplica) {
  const common = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    LOG_LEVEL: 'warn',
    BIND_HOST: '127.0.0.1',
    AMQP_URL: d.amqpUrl,
    REDIS_URL: d.redis.url,
    REDIS_KEY_PREFIX: d.redis.prefix,
    // BENCH_NODE_OPTIONS (and the inspector with --profile) as the launcher's processes got them
    ...(d.env.NODE_OPTIONS ? { NODE_OPTIONS: d.env.NODE_OPTIONS } : {}),
  };
  const realtimePort = await freePort();
  const streamPort = await freePort();
  const gatewayPort = await freePort();
  const realtime = existing
    ? null
    : startReplica('realtime', {
        ...common,
        ...devIdentityEnv(d.identityKeys, 'realtime'),
        REALTIME_PORT: String(realtimePort),
        REALTIME_STREAM_PORT: String(streamPort),
        ROUTING_ENGINE_URL: d.serviceUrl('routing-engine'),
      });
  const target: RealtimeReplica = existing ?? {
    url: `http://127.0.0.1:${realtimePort}`,
    streamUrl: `http://127.0.0.1:${streamPort}`,
    pid: realtime!.pid!,
  };
  const gateway = startReplica('gateway', {
    ...common,
    ...devIdentityEnv(d.identityKeys, 'gateway'),
    GATEWAY_PORT: String(gatewayPort),
    INTAKE_URL: d.serviceUrl('intake'),
    ROUTING_ENGINE_URL: d.serviceUrl('routing-engine'),
    COMMUNICATION_URL: d.serviceUrl('communication'),
    EXPORT_WORKER_URL: d.serviceUrl('export-worker'),
    REALTIME_URL: target.url,
    REALTIME_STREAM_URL: target.streamUrl,
    CITIZEN_ISSUER: `${d.idpUrl}/citizen`,
    CITIZEN_JWKS_URI: `${d.idpUrl}/citizen/jwks.json`,
    OFFICIAL_ISSUER: `${d.idpUrl}/official`,
    OFFICIAL_JWKS_URI: `${d.idpUrl}/official/jwks.json`,
    RATE_LIMIT_CITIZEN_PER_MIN: '1000000',
    RATE_LIMIT_OFFICIAL_PER_MIN: '1000000',
  });
  const stop = async () => {
    for (const child of realtime ? [gateway, realtime] : [gateway]) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
    }
  };
  try {
    await ready(target.url, 'realtime ready');
    await ready(`http://127.0.0.1:${gatewayPort}`, 'gateway ready');
  } catch (err) {
    await stop();
    throw err;
  }
  return { gatewayUrl: `http://127.0.0.1:${gatewayPort}`, gatewayPid: gateway.pid!, realtimePid: target.pid, stop };
}

/** The client process: forks with IPC, the open-files limit raised; `ask` sends a command and waits for the answer of a kind. */
function startClient(planFile: string) {
  // a small young generation here too: the client holds 10,000 connections and parses small events
  const child = spawn(
    'sh',
    ['-c', RAISE_OPEN_FILES, process.execPath, '--max-semi-space-size=1', join(__dirname, 'realtime-client.js'), planFile],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const ask = (cmd: string, kind: ClientMessage['kind'], timeoutMs: number) =>
    new Promise<ClientMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the stream client did not answer ${cmd} in ${timeoutMs / 1000} s`)), timeoutMs);
      const onMessage = (m: ClientMessage) => {
        if (m.kind !== kind) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(m);
      };
      child.on('message', onMessage);
      child.send({ cmd });
    });
  return { child, ask };
}

/**
 * 10,000 concurrent event streams (`GET /api/v1/events`, Server-Sent Events) held by a client
 * process of their own through two gateway replicas, each in front of its own realtime replica
 * (the client holds a socket per stream, the gateways one each and share HTTP/2 connections to
 * realtime; a process may not have more than 20,000 open files here: two pairs, the client
 * alternating). 5,000 distinct users (tokens minted as
 * `npm run token` does), two streams each, one per gateway: 90 % citizens, 10 % officials of 10
 * authorities. While they are open, events are published to the broker in rounds such that
 * every stream gets exactly one per round (a status change per citizen, an overdue document per
 * authority); the client measures publish → arrival. Reported with their goals: streams held,
 * errors (refused or dropped streams, missing or extra events), latency p50/p99 and the peak RSS
 * of every process involved.
 */
export async function benchRealtime(ctx: BenchContext): Promise<BenchResult[]> {
  const b = 'realtime';
  if (!ctx.direct) return [{ benchmark: b, metric: 'streams held', value: null, note: 'skipped: needs the platform the bench starts' }];
  const d = ctx.direct;
  const total = ctx.scaled(GOAL.streams, 20);
  const users = Math.ceil(total / STREAMS_PER_USER);
  const staffUsers = Math.max(AUTHORITIES, Math.round(users * STAFF_SHARE));
  const citizenUsers = users - staffUsers;
  const run = randomUUID().slice(0, 8);
  const authorities = Array.from({ length: AUTHORITIES }, (_, i) => `rt-${run}-${i}`);

  ctx.log(`realtime: minting ${users} tokens (${citizenUsers} citizens, ${staffUsers} officials of ${AUTHORITIES} authorities)`);
  const requests: TokenRequest[] = [
    ...Array.from({ length: citizenUsers }, (_, i): TokenRequest => ({ role: 'citizen', sub: `rt-${run}-c${i}` })),
    ...Array.from({ length: staffUsers }, (_, i): TokenRequest => ({
      role: 'official',
      sub: `rt-${run}-o${i}`,
      authority: authorities[i % AUTHORITIES],
    })),
  ];
  const tokens = await ctx.tokens(requests);

  ctx.log("realtime: starting gateway-1 → the launcher's realtime (realtime-1), and gateway-2 → realtime-2");
  const pairs: Array<Awaited<ReturnType<typeof startPair>>> = [];
  const stopPairs = () => Promise.all(pairs.map((p) => p.stop()));
  try {
    const launchers = ctx.pidOf('realtime');
    if (launchers === null) throw new Error("the launcher's realtime is not running");
    pairs.push(
      await startPair(d, {
        url: `http://127.0.0.1:${d.realtimePort}`,
        streamUrl: `http://127.0.0.1:${d.realtimeStreamPort}`,
        pid: launchers,
      }),
    );
    pairs.push(await startPair(d));
  } catch (err) {
    await stopPairs();
    throw err;
  }
  const gateways = pairs.map((p) => p.gatewayUrl);
  const dir = await mkdtemp(join(tmpdir(), 'dvd-bench-rt-'));
  const planFile = join(dir, 'plan.json');
  let client: ReturnType<typeof startClient> | undefined;
  let connection: Awaited<ReturnType<typeof amqp.connect>> | undefined;
  try {
    // each user's two streams go to different gateways, so to different realtime replicas
    const streams = Array.from({ length: users * STREAMS_PER_USER }, (_, i) => ({
      url: `${gateways[i % 2]}/api/v1/events`,
      token: tokens[Math.floor(i / STREAMS_PER_USER)],
    })).slice(0, total);
    await writeFile(planFile, JSON.stringify({ streams, concurrency: 200 }), { mode: 0o600 });

    const pids: Record<string, number> = {};
    pairs.forEach((p, i) => {
      pids[`gateway-${i + 1}`] = p.gatewayPid;
      pids[`realtime-${i + 1}`] = p.realtimePid;
    });
    client = startClient(planFile);
    pids['stream client'] = client.child.pid!;
    for (const app of ['intake', 'routing-engine', 'communication', 'export-worker', 'dev-idp', 'local-s3'] as const) {
      const pid = ctx.pidOf(app);
      if (pid !== null) pids[app] = pid;
    }
    // the launcher's own gateway holds no streams here
    const idleGateway = ctx.pidOf('gateway');
    if (idleGateway !== null) pids["gateway (the launcher's)"] = idleGateway;
    const sampler = ctx.rssSampler(pids, 250);

    ctx.log(`realtime: opening ${streams.length} streams (200 at a time) through ${gateways.length} gateways`);
    const opened = await client.ask('open', 'opened', 10 * 60_000);
    ctx.log(
      `realtime: ${String(opened.held)} streams held, ${String(opened.errors)} refused, in ${String(opened.ms)} ms (${JSON.stringify(opened.statuses)})`,
    );

    // ── events: one per stream and round, published straight to the broker as the services' relays do
    connection = await amqp.connect(d.amqpUrl);
    const channel = await connection.createConfirmChannel();
    const envelope = <K extends EventType>(type: K, data: EventMap[K]) => {
      const id = randomUUID();
      const env: EventEnvelope<K> = { id, type, occurredAt: new Date().toISOString(), correlationId: id, causationId: null, data };
      channel.publish(EVENTS_EXCHANGE, type, Buffer.from(JSON.stringify(env)), {
        persistent: true,
        contentType: 'application/json',
        messageId: id,
        type,
        timestamp: Math.floor(Date.now() / 1000),
        appId: 'bench',
      });
    };
    const rounds = ROUNDS;
    const perRound: Array<() => void> = [
      ...Array.from(
        { length: citizenUsers },
        (_, i) => () =>
          envelope('document.status-changed', {
            documentId: randomUUID(),
            citizenId: `rt-${run}-c${i}`,
            authorityId: `rt-${run}-nobody`,
            unitId: null,
            status: 'ROUTED',
          }),
      ),
      ...authorities.map(
        (authorityId) => () => envelope('document.overdue', { documentId: randomUUID(), authorityId, unitId: 'poststelle' }),
      ),
    ];
    const slices = 10;
    for (let r = 0; r < rounds; r++) {
      const t0 = Date.now();
      for (let s = 0; s < slices; s++) {
        const from = Math.floor((perRound.length * s) / slices);
        const to = Math.floor((perRound.length * (s + 1)) / slices);
        for (let i = from; i < to; i++) perRound[i]();
        await channel.waitForConfirms();
        await sleep(Math.max(0, t0 + ((s + 1) * ROUND_MS) / slices - Date.now()));
      }
      await sleep(ROUND_MS);
    }
    // every stream of a user gets its user's events: a citizen's two streams each one, an official's each one per authority event
    const expected = streams.length * rounds;
    ctx.log(`realtime: ${rounds} rounds of ${perRound.length} events published; waiting for ${expected} deliveries`);
    let stats = await client.ask('stats', 'stats', 30_000);
    const deadline = Date.now() + 60_000;
    while (Number(stats.received) < expected && Date.now() < deadline) {
      await sleep(500);
      stats = await client.ask('stats', 'stats', 30_000);
    }
    const rss = sampler.stop();

    const held = Number(stats.held);
    const missing = Math.max(0, expected - Number(stats.received));
    const extra = Math.max(0, Number(stats.received) - expected);
    const errors = Number(opened.errors) + Number(stats.dropped) + missing + extra + Number(stats.outOfOrder);
    const servers = ['gateway-1', 'gateway-2', 'realtime-1', 'realtime-2'];
    const streamingPath = [...servers, 'stream client'];
    const peak = (name: string) => rss[name]?.peakMiB ?? 0;
    const sum = (names: string[]) => names.reduce((total, n) => total + peak(n), 0);
    const growth = servers.reduce((total, n) => total + (rss[n] ? rss[n].peakMiB - rss[n].baselineMiB : 0), 0);
    const ms = (v: unknown) => (typeof v === 'number' ? round(v) : null);

    const results: BenchResult[] = [
      {
        benchmark: b,
        metric: 'streams held',
        value: held,
        note: `goal ${GOAL.streams.toLocaleString('en-US')} (asked for ${streams.length}); ${users} users, ${STREAMS_PER_USER} streams each over 2 gateways → 2 realtime replicas; opened in ${String(opened.ms)} ms`,
        details: { statuses: opened.statuses },
      },
      {
        benchmark: b,
        metric: 'errors',
        value: errors,
        note: `goal ${GOAL.errors}: ${String(opened.errors)} refused, ${String(stats.dropped)} dropped, ${missing} events missing, ${extra} extra, ${String(stats.outOfOrder)} out of order (${Number(stats.received).toLocaleString('en-US')} of ${expected.toLocaleString('en-US')} delivered; per stream ${String(stats.minPerStream)}–${String(stats.maxPerStream)})`,
      },
      {
        benchmark: b,
        metric: 'delivery latency p50',
        value: ms(stats.p50),
        unit: 'ms',
        note: `publish to the broker → event parsed by the client; ${rounds} rounds of ${perRound.length} events, each over ${ROUND_MS} ms`,
      },
      {
        benchmark: b,
        metric: 'delivery latency p99',
        value: ms(stats.p99),
        unit: 'ms',
        note: `goal < ${GOAL.p99Ms} ms; max ${String(ms(stats.max))} ms`,
      },
      {
        benchmark: b,
        metric: 'total RSS, servers',
        value: round(sum(servers)),
        unit: 'MiB',
        note:
          `goal < ${GOAL.totalRssMiB} MiB: peaks of ${servers.join(' + ')}; ${round(growth)} MiB of it for the streams ` +
          `(${round((growth * 1024) / Math.max(1, held))} KiB per stream over both hops), the rest the four processes idle`,
      },
      {
        benchmark: b,
        metric: 'total RSS, with the client',
        value: round(sum(streamingPath)),
        unit: 'MiB',
        note: `goal < ${GOAL.totalRssMiB} MiB if the load generator counts too; with every other platform process ${round(sum(Object.keys(rss)))} MiB`,
      },
      ...Object.entries(rss).map(([name, f]) => ({
        benchmark: b,
        metric: `RSS ${name}`,
        value: round(f.peakMiB),
        unit: 'MiB',
        note: `peak (baseline ${round(f.baselineMiB)} MiB, pid ${pids[name]})${streamingPath.includes(name) ? '' : ', not on the streaming path'}`,
        details: f,
      })),
    ];
    ctx.log(`realtime: client RSS ${round(Number(stats.rssBytes) / MiB)} MiB at the end`);
    return results;
  } finally {
    await connection?.close().catch(() => undefined);
    if (client) {
      client.child.send({ cmd: 'close' });
      await Promise.race([new Promise((r) => client!.child.once('exit', r)), sleep(10_000)]);
      if (client.child.exitCode === null) client.child.kill('SIGKILL');
    }
    await stopPairs();
    await rm(dir, { recursive: true, force: true });
  }
}
