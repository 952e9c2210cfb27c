import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { EventMap, Identity } from '@dvd/contracts';
import { EMPTY_BODY_DIGEST, drainAndClose, parseSigningKey, signIdentity } from '@dvd/platform';
import {
  EventProbe,
  EventStreamClient,
  TEST_IDENTITY_KEYS,
  createTestVhost,
  freePort,
  mountedPublicRoutes,
  mustOpenEventStream,
  openEventStream,
  openEventStreamH2,
  pollUntil,
  registeredRoutesOf,
  testIdentityEnv,
  uniqueName,
} from '@dvd/testing';
import { EventStreamServer } from '../../src/events/event-stream-server';
import { createRealtimeApp } from '../../src/main';
import { realtimeConfigSchema } from '../../src/realtime.config';

type User = { userId: string; role: Identity['role']; authorityId?: string };
const alice: User = { userId: 'alice', role: 'citizen' };
const bob: User = { userId: 'bob', role: 'citizen' };
const o1: User = { userId: 'o1', role: 'official', authorityId: 'a1' };
const o2: User = { userId: 'o2', role: 'official', authorityId: 'a2' };

const gatewayKey = parseSigningKey(TEST_IDENTITY_KEYS.gateway);

/** The identity headers the gateway stamps on a stream request, with the token's expiry. */
function signed(user: User, path = '/api/v1/events', expiresInS = 3600, withExpiry = true): Record<string, string> {
  const identity: Identity = {
    userId: user.userId,
    role: user.role,
    authorityId: user.authorityId ?? null,
    requestId: `test-${randomUUID()}`,
    ...(withExpiry ? { expiresAt: Math.floor(Date.now() / 1000) + expiresInS } : {}),
  };
  return signIdentity(gatewayKey, identity, 'GET', path, EMPTY_BODY_DIGEST);
}

interface Replica {
  app: INestApplication;
  url: string;
  /** The stream port: HTTP/2 for the gateway. */
  h2: string;
}

describe('realtime (real RabbitMQ stream and Redis; two replicas)', () => {
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  let probe: EventProbe;
  const redisPrefix = `${uniqueName('rt')}:`;
  const replicas: Replica[] = [];

  async function startReplica(env: Record<string, string> = {}): Promise<Replica> {
    const config = realtimeConfigSchema.parse({
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...testIdentityEnv('realtime'),
      AMQP_URL: vhost.url,
      REDIS_KEY_PREFIX: redisPrefix,
      ROUTING_ENGINE_URL: `http://127.0.0.1:${await freePort()}`, // nothing listens: no unit filters here
      REALTIME_HEARTBEAT_MS: '300',
      REALTIME_MAX_STREAMS_PER_USER: '3',
      REALTIME_STREAM_PORT: '0',
      ...env,
    });
    const app = await createRealtimeApp(config);
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    const replica = { app, url, h2: `http://127.0.0.1:${app.get(EventStreamServer).port}` };
    replicas.push(replica);
    await pollUntil(async () => (await fetch(`${url}/health/ready`)).status === 200, {
      what: 'replica ready (stream caught up)',
      timeoutMs: 30_000,
    });
    return replica;
  }

  const open = (r: Replica, user: User, headers: Record<string, string> = {}, query = '') =>
    mustOpenEventStream(`${r.url}/api/v1/events${query}`, { ...signed(user, `/api/v1/events${query}`), ...headers });

  const statusChanged = (citizenId: string, authorityId: string, documentId = randomUUID()): EventMap['document.status-changed'] => ({
    documentId,
    citizenId,
    authorityId,
    unitId: 'u1',
    status: 'ROUTED',
  });

  /**
   * Publishes a marker each listed stream may see and waits until each has it: after that,
   * every event published before it has been considered for that stream (one stream, one
   * order), so what the stream holds is all it will ever get of them.
   */
  async function settle(streams: Array<[EventStreamClient, User]>) {
    const markers = new Map<EventStreamClient, string>();
    for (const [stream, user] of streams) {
      const data = user.role === 'citizen' ? statusChanged(user.userId, 'nobody') : statusChanged('nobody', user.authorityId!);
      await probe.publish('document.status-changed', data);
      markers.set(stream, data.documentId);
    }
    for (const [stream, documentId] of markers) await stream.waitFor((e) => e.data.documentId === documentId, 'the marker');
    const isMarker = (e: { data: Record<string, unknown> }) => [...markers.values()].includes(e.data.documentId as string);
    return (stream: EventStreamClient) => stream.of().filter((e) => !isMarker(e));
  }

  /** Events for a client that does not read, 1,000 at a time, until realtime drops it (at most 100,000). */
  async function floodUntilDropped(metrics: () => Promise<string>, slow: string) {
    let published = 0;
    while (!/^realtime_streams_closed_total\{reason="slow-client"[^}]*\} 1$/m.test(await metrics())) {
      if (published >= 100_000) throw new Error(`not dropped after ${published} events`);
      await probe.publishMany(
        'document.status-changed',
        Array.from({ length: 1000 }, () => statusChanged(slow, 'a1')),
      );
      published += 1000;
    }
  }

  beforeAll(async () => {
    vhost = await createTestVhost();
    probe = await EventProbe.create(vhost.url, []);
    await startReplica();
    await startReplica();
  }, 60_000);

  afterAll(async () => {
    // as a stopping replica does: its connections closed after the grace, not after their keep-alive (75 s)
    for (const r of replicas) await drainAndClose(r.app, 1_000).catch(() => undefined);
    await probe?.close();
    await vhost?.drop();
  });

  it('mounts exactly the public routes the contract registry gives realtime', () => {
    expect(mountedPublicRoutes(replicas[0].app)).toEqual(registeredRoutesOf('realtime'));
  });

  it('delivers every event on every replica to the sessions allowed to see it, with the same id everywhere, and to no other', async () => {
    const [r1, r2] = replicas;
    const aliceOn1 = await open(r1, alice);
    const aliceOn2 = await open(r2, alice);
    const bobOn1 = await open(r1, bob);
    const o1On2 = await open(r2, o1);
    const o2On1 = await open(r1, o2);
    for (const s of [aliceOn1, aliceOn2]) {
      expect(s.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(s.headers.get('cache-control')).toBe('no-store, no-transform');
      expect(s.headers.get('x-accel-buffering')).toBe('no');
    }
    const threadId = randomUUID();
    const messageId = randomUUID();
    const documentId = randomUUID();
    await probe.publish('message.posted', {
      messageId,
      threadId,
      documentId,
      senderRole: 'citizen',
      citizenId: 'alice',
      authorityId: 'a1',
      unitId: 'u1',
    });
    const exportJob = randomUUID();
    await probe.publish('export.completed', { jobId: exportJob, documentId, authorityId: 'a1', unitId: 'u1' });

    const seen = await settle([
      [aliceOn1, alice],
      [aliceOn2, alice],
      [bobOn1, bob],
      [o1On2, o1],
      [o2On1, o2],
    ]);
    const created = { type: 'message.created', documentId, threadId, messageId, time: expect.any(String) };
    expect(seen(aliceOn1).map((e) => e.data)).toEqual([created]);
    expect(seen(aliceOn2).map((e) => e.data)).toEqual([created]);
    expect(seen(o1On2).map((e) => e.data)).toEqual([
      created,
      { type: 'export.completed', documentId, exportJobId: exportJob, time: expect.any(String) },
    ]);
    expect(seen(bobOn1)).toEqual([]);
    expect(seen(o2On1)).toEqual([]);
    // the broker stream's offset is the id, on either replica
    expect(seen(aliceOn1)[0].id).toMatch(/^\d+$/);
    expect(seen(aliceOn1)[0].id).toBe(seen(aliceOn2)[0].id);
    expect(seen(aliceOn1)[0].id).toBe(seen(o1On2)[0].id);
    await Promise.all([aliceOn1, aliceOn2, bobOn1, o1On2, o2On1].map((s) => s.close()));
  });

  it('resumes with Last-Event-ID on another replica: the missed events, then live ones', async () => {
    const [r1, r2] = replicas;
    const first = await open(r1, alice);
    const e1 = statusChanged('alice', 'a1');
    await probe.publish('document.status-changed', e1);
    const got = await first.waitFor((e) => e.data.documentId === e1.documentId, 'the first event');
    await first.close();

    const missed = [statusChanged('alice', 'a1'), statusChanged('alice', 'a1')];
    for (const m of missed) await probe.publish('document.status-changed', m);
    await probe.publish('document.status-changed', statusChanged('bob', 'a1')); // not alice's
    const resumed = await open(r2, alice, { 'last-event-id': got.id! });
    const live = statusChanged('alice', 'a1');
    await probe.publish('document.status-changed', live);
    await resumed.waitFor((e) => e.data.documentId === live.documentId, 'the live event');
    expect(resumed.of().map((e) => e.data.documentId)).toEqual([...missed, live].map((m) => m.documentId));
    expect(resumed.of('reset')).toEqual([]);
    await resumed.close();
  });

  it('tells a client whose id is older than the window to reload (reset), and goes on', async () => {
    const short = await startReplica({ REALTIME_REPLAY_WINDOW_MS: '1500', REALTIME_HEARTBEAT_MS: '200' });
    const s = await open(short, alice);
    const old = statusChanged('alice', 'a1');
    await probe.publish('document.status-changed', old);
    const got = await s.waitFor((e) => e.data.documentId === old.documentId, 'the event');
    await s.close();
    // resuming from just before it replays it while it is in the window, and resets once it left
    const resumed = await pollUntil(
      async () => {
        const r = await open(short, alice, { 'last-event-id': String(Number(got.id) - 1) });
        const first = await r.waitFor(() => true, 'the first frame', 5_000);
        if (first.event === 'reset') return r;
        expect(first.data.documentId).toBe(old.documentId);
        await r.close();
        return null;
      },
      { what: 'the event to leave the window', timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(resumed.events[0].data).toEqual({ type: 'reset', reason: 'last-event-id-outside-window' });
    const after = statusChanged('alice', 'a1');
    await probe.publish('document.status-changed', after);
    await resumed.waitFor((e) => e.data.documentId === after.documentId, 'a live event after the reset');
    await resumed.close();
    // an id from the future (another stream) cannot be resumed either
    const future = await open(short, alice, { 'last-event-id': '999999999999' });
    await future.waitFor((e) => e.event === 'reset', 'a reset for an unknown id');
    await future.close();
  });

  it('keeps an idle stream alive with heartbeats that carry the stream position', async () => {
    const s = await open(replicas[0], bob);
    await probe.publish('document.status-changed', statusChanged('alice', 'a1')); // moves the stream on, not bob's
    await pollUntil(async () => s.comments >= 2 && s.lastId !== undefined, { what: 'heartbeats', timeoutMs: 10_000 });
    expect(s.of()).toEqual([]);
    // bob resumes from the heartbeat's id: nothing was lost, nothing to reset
    const resumed = await open(replicas[1], bob, { 'last-event-id': s.lastId! });
    await s.close();
    const next = statusChanged('bob', 'a1');
    await probe.publish('document.status-changed', next);
    await resumed.waitFor((e) => e.data.documentId === next.documentId, 'the next event');
    expect(resumed.events.map((e) => e.event)).toEqual(['document.status-changed']);
    await resumed.close();
  });

  it('ends the stream when the token expires', async () => {
    const s = await mustOpenEventStream(`${replicas[0].url}/api/v1/events`, signed(alice, '/api/v1/events', 2));
    await s.waitFor((e) => e.event === 'expired', 'the expired event', 10_000);
    await s.ended;
    expect(s.events.at(-1)?.data).toEqual({ type: 'expired', reason: 'token-expired' });
  });

  it('refuses a stream without a signed token expiry, a bad Last-Event-ID, a citizen unit filter and a ticket', async () => {
    const url = `${replicas[0].url}/api/v1/events`;
    expect((await openEventStream(url, signed(alice, '/api/v1/events', 3600, false))).status).toBe(401);
    expect((await openEventStream(url, signed(alice, '/api/v1/events', -10))).status).toBe(401);
    expect((await openEventStream(url, { ...signed(alice), 'last-event-id': '12abc' })).status).toBe(400);
    expect((await openEventStream(`${url}?unitId=u1`, signed(alice, '/api/v1/events?unitId=u1'))).status).toBe(400);
    const ticket = `?ticket=${'a'.repeat(43)}`;
    expect((await openEventStream(`${url}${ticket}`, signed(alice, `/api/v1/events${ticket}`))).status).toBe(400);
    expect((await openEventStream(url)).status).toBe(401);
  });

  it('limits open streams per user over all replicas, and frees a place when a stream ends', async () => {
    const [r1, r2] = replicas;
    const zoe: User = { userId: `zoe-${randomUUID()}`, role: 'citizen' };
    const held = [await open(r1, zoe), await open(r2, zoe), await open(r1, zoe)];
    const refused = await openEventStream(`${r2.url}/api/v1/events`, signed(zoe));
    expect(refused.status).toBe(429);
    if (!refused.ok) {
      expect(refused.problem.type).toMatch(/too-many-streams$/);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // the same subject from the other IdP is another user
    const staffZoe = await open(r2, { ...zoe, role: 'official', authorityId: 'a1' });
    await held[0].close();
    const again = await pollUntil(
      async () => {
        const r = await openEventStream(`${r2.url}/api/v1/events`, signed(zoe));
        return r.ok ? r.stream : null;
      },
      { what: 'a place freed' },
    );
    await Promise.all([again, staffZoe, held[1], held[2]].map((s) => s.close()));
  });

  it('drops a client that does not read instead of buffering for it', async () => {
    const replica = await startReplica({ REALTIME_MAX_BUFFERED_BYTES: '65536' });
    const metrics = async () => (await fetch(`${replica.url}/metrics`)).text();
    const slow = `slow-${randomUUID()}`;
    const req = request(`${replica.url}/api/v1/events`, { headers: signed({ userId: slow, role: 'citizen' }) }, (res) => {
      expect(res.statusCode).toBe(200);
      res.pause(); // never reads: the kernel's buffers fill, then realtime's
    });
    req.on('error', () => undefined);
    req.end();
    await pollUntil(async () => /^realtime_streams_open\{[^}]*\} 1$/m.test(await metrics()), { what: 'the slow stream open' });
    // events for the slow client until realtime gives up on it (a paused socket does not notice the close itself)
    await floodUntilDropped(metrics, slow);
    expect(await metrics()).toMatch(/^realtime_streams_open\{[^}]*\} 0$/m);
    req.destroy();
  }, 120_000);

  describe('the stream port (HTTP/2, for the gateway)', () => {
    const openH2 = (r: Replica, user: User, query = '', headers: Record<string, string> = {}) =>
      openEventStreamH2(`${r.h2}/api/v1/events${query}`, { ...signed(user, `/api/v1/events${query}`), ...headers });

    it('delivers to the sessions allowed to see an event, as the HTTP/1.1 route does, and resumes with Last-Event-ID', async () => {
      const [r1, r2] = replicas;
      const carl: User = { userId: `carl-${randomUUID()}`, role: 'citizen' };
      const opened = [await openH2(r1, carl), await openH2(r2, carl), await openH2(r1, o1), await openH2(r2, o2)];
      const [carlOn1, carlOn2, o1On1, o2On2] = opened.map((o) => {
        if (!o.ok) throw new Error(`refused: ${o.status}`);
        return o.stream;
      });
      expect(carlOn1.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(carlOn1.headers.get('cache-control')).toBe('no-store, no-transform');
      const mine = statusChanged(carl.userId, 'a1');
      await probe.publish('document.status-changed', mine);
      const got1 = await carlOn1.waitFor((e) => e.data.documentId === mine.documentId, 'carl on replica 1');
      const got2 = await carlOn2.waitFor((e) => e.data.documentId === mine.documentId, 'carl on replica 2');
      expect(got1.id).toBe(got2.id);
      await o1On1.waitFor((e) => e.data.documentId === mine.documentId, 'the official of a1');
      const view = await settle([[o2On2, o2]]);
      expect(view(o2On2)).toEqual([]); // another authority's
      // carl goes away, misses one, and resumes on the other replica
      await carlOn1.close();
      const missed = statusChanged(carl.userId, 'a1');
      await probe.publish('document.status-changed', missed);
      await carlOn2.waitFor((e) => e.data.documentId === missed.documentId, 'carl on replica 2: the missed one');
      const resumed = await openH2(r2, carl, '', { 'last-event-id': got1.id! });
      if (!resumed.ok) throw new Error(`refused: ${resumed.status}`);
      const again = await resumed.stream.waitFor((e) => e.data.documentId === missed.documentId, 'the missed event after resuming');
      expect(resumed.stream.of().map((e) => e.data.documentId)).toEqual([missed.documentId]);
      expect(again.event).toBe('document.status-changed');
      await Promise.all([carlOn2, o1On1, o2On2, resumed.stream].map((st) => st.close()));
    });

    it('refuses what the HTTP/1.1 route refuses, with problem+json, and a replayed signature', async () => {
      const r = replicas[0];
      const refusal = async (p: ReturnType<typeof openEventStreamH2>) => {
        const o = await p;
        if (o.ok) {
          await o.stream.close();
          return { status: 200, type: undefined };
        }
        expect(o.headers.get('content-type')).toBe('application/problem+json');
        return { status: o.status, type: o.problem.type };
      };
      expect(await refusal(openEventStreamH2(`${r.h2}/api/v1/events`))).toMatchObject({ status: 401 });
      expect(await refusal(openH2(r, alice, '', { 'last-event-id': '12abc' }))).toMatchObject({ status: 400 });
      expect(await refusal(openH2(r, alice, '?unitId=u1'))).toMatchObject({ status: 400 });
      expect(await refusal(openEventStreamH2(`${r.h2}/api/v1/events`, signed(alice, '/api/v1/events', -10)))).toMatchObject({
        status: 401,
      });
      // signed for another path; another path or method; a service identity (the gateway's key never signs one)
      expect(await refusal(openEventStreamH2(`${r.h2}/api/v1/events?unitId=u1`, signed(o1)))).toMatchObject({ status: 401 });
      expect(await refusal(openEventStreamH2(`${r.h2}/api/v1/other`, signed(alice, '/api/v1/other')))).toMatchObject({ status: 404 });
      expect(await refusal(openEventStreamH2(`${r.h2}/api/v1/events`, signed(alice), { method: 'DELETE' }))).toMatchObject({ status: 404 });
      expect(
        await refusal(openEventStreamH2(`${r.h2}/api/v1/events`, signed({ userId: 'routing-engine', role: 'service' }))),
      ).toMatchObject({ status: 401 });
      // the same signed headers twice: the second is a replay
      const once = signed(bob);
      const first = await openEventStreamH2(`${r.h2}/api/v1/events`, once);
      expect(first.status).toBe(200);
      expect(await refusal(openEventStreamH2(`${r.h2}/api/v1/events`, once))).toMatchObject({ status: 401 });
      if (first.ok) await first.stream.close();
    });

    it('drops a stream whose reader does not read (its flow-control window closes) instead of buffering for it', async () => {
      const replica = await startReplica({ REALTIME_MAX_BUFFERED_BYTES: '65536' });
      const metrics = async () => (await fetch(`${replica.url}/metrics`)).text();
      const slow = `slow-${randomUUID()}`;
      const opened = await openEventStreamH2(`${replica.h2}/api/v1/events`, signed({ userId: slow, role: 'citizen' }), { readBody: false });
      expect(opened.status).toBe(200);
      const other = await openH2(replica, bob);
      if (!other.ok) throw new Error('refused');
      await floodUntilDropped(metrics, slow);
      expect(await opened.reset).toBe(8); // RST_STREAM CANCEL: realtime let go of it
      // another stream of the replica is unaffected
      const next = statusChanged('bob', 'a1');
      await probe.publish('document.status-changed', next);
      await other.stream.waitFor((e) => e.data.documentId === next.documentId, 'bob still served');
      await other.stream.close();
    }, 120_000);
  });

  it('stops without waiting for a gateway that keeps its side of an HTTP/2 stream open', async () => {
    const replica = await startReplica();
    const session = connect(replica.h2);
    session.on('error', () => undefined);
    // a request whose body never ends: refused, but the stream stays half open on realtime
    const req = session.request({ ':method': 'POST', ':path': '/api/v1/events', ...signed(alice) });
    req.on('error', () => undefined);
    const status = await new Promise<number>((resolve) => req.once('response', (h) => resolve(Number(h[':status']))));
    expect(status).toBe(404);
    await drainAndClose(replica.app, 5_000);
    replicas.splice(replicas.indexOf(replica), 1);
    session.destroy();
  });

  it('ends its streams when it drains, so that clients resume elsewhere', async () => {
    const replica = await startReplica();
    const s = await open(replica, alice);
    await drainAndClose(replica.app, 5_000);
    replicas.splice(replicas.indexOf(replica), 1);
    await s.ended;
    expect(s.endedAt).not.toBeNull();
  });
});
