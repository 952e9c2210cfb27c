import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { EventMap, Identity } from '@dvd/contracts';
import { EMPTY_BODY_DIGEST, devIdentityEnv, parseSigningKey, signIdentity } from '@dvd/platform';
import {
  EventProbe,
  EventStreamClient,
  ReceivedEvent,
  ResponseRecorder,
  TestEncryptionKey,
  documentUpload,
  encryptCompact,
  freePort,
  makeEncryptionKey,
  mustOpenEventStream,
  openEventStream,
  pollUntil,
  queueSettled,
} from '@dvd/testing';
import { ROOT, RunningPlatform, expectResponsesMatchOpenApi, gatewayClient, startPlatform } from './platform-process';

type Who = 'erika' | 'max' | 'anna' | 'arne' | 'berta';
/** The sessions: two citizens, and officials of two authorities, one of them on one unit only (`?unitId=`). */
const PEOPLE: Record<Who, { role: 'citizen' | 'official'; authorityId?: string; unitId?: string }> = {
  erika: { role: 'citizen' },
  max: { role: 'citizen' },
  anna: { role: 'official', authorityId: 'stadt-a' },
  arne: { role: 'official', authorityId: 'stadt-a', unitId: 'bauaufsicht' },
  berta: { role: 'official', authorityId: 'stadt-b' },
};

/** What a client is told, without the time (checked to be there). */
const view = (e: ReceivedEvent) => {
  expect(e.data.time).toEqual(expect.any(String));
  const { time: _time, ...rest } = e.data;
  return rest;
};

describe('realtime events through the gateway: who sees what, resuming, two replicas, tickets', () => {
  let p: RunningPlatform;
  let probe: EventProbe;
  let key: TestEncryptionKey;
  let receiver: ReturnType<typeof createServer>;
  let vhost: string;
  const tokens = {} as Record<Who | 'platformAdmin' | 'adminA' | 'adminB', string>;
  const streams = {} as Record<Who, EventStreamClient>;
  /** How many events of each stream earlier steps accounted for. */
  const seen = {} as Record<Who, number>;
  const replica2: { child?: ChildProcess; url?: string } = {};

  const recorder = new ResponseRecorder();
  const call = (...args: Parameters<ReturnType<typeof gatewayClient>>) => gatewayClient(p.gateway, recorder)(...args);
  const PER_CONNECTION = 3;
  const eventsUrl = (query = '') => `${p.gateway}/api/v1/events${query}`;
  const bearer = (who: Who | 'platformAdmin') => ({ authorization: `Bearer ${tokens[who]}` });

  /** Records a refused stream for the check against docs/openapi.json. */
  async function refusedStream(
    url: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; problem: Record<string, unknown> }> {
    const opened = await openEventStream(url, headers);
    if (opened.ok) {
      await opened.stream.close();
      return { status: 200, problem: {} };
    }
    recorder.record({
      method: 'GET',
      path: new URL(url).pathname + new URL(url).search,
      status: opened.status,
      contentType: opened.headers.get('content-type'),
      body: opened.problem,
    });
    return opened;
  }

  /**
   * A marker each session may see, published straight to the broker after the step's events:
   * once a session has its marker, every event published before it was considered for that
   * session (one stream, one order). Returns, per session, what the step brought it.
   */
  async function settle(sessions: Who[] = Object.keys(PEOPLE) as Who[]): Promise<Record<Who, ReceivedEvent[]>> {
    const markers: Array<EventMap['document.status-changed']> = [];
    for (const who of sessions) {
      const person = PEOPLE[who];
      const data: EventMap['document.status-changed'] = {
        documentId: randomUUID(),
        citizenId: person.role === 'citizen' ? who : 'nobody',
        authorityId: person.authorityId ?? 'nobody',
        unitId: person.unitId ?? null,
        status: 'ROUTED',
      };
      await probe.publish('document.status-changed', data);
      markers.push(data);
    }
    // a session sees its own marker and those of its colleagues it may see: it waits for all of them
    const visibleTo = (who: Who, m: EventMap['document.status-changed']) => {
      const person = PEOPLE[who];
      if (person.role === 'citizen') return m.citizenId === who;
      return m.authorityId === person.authorityId && (person.unitId === undefined || m.unitId === person.unitId);
    };
    const all = new Set(markers.map((m) => m.documentId));
    const out = {} as Record<Who, ReceivedEvent[]>;
    for (const who of sessions) {
      for (const m of markers.filter((marker) => visibleTo(who, marker)))
        await streams[who].waitFor((e) => e.data.documentId === m.documentId, `${who}'s markers`);
      const fresh = streams[who].events.slice(seen[who]);
      seen[who] = streams[who].events.length;
      out[who] = fresh.filter((e) => !all.has(e.data.documentId as string));
    }
    return out;
  }

  async function openThroughGateway(who: Who, headers: Record<string, string> = {}): Promise<EventStreamClient> {
    const unit = PEOPLE[who].unitId;
    return mustOpenEventStream(eventsUrl(unit ? `?unitId=${unit}` : ''), { ...bearer(who), ...headers });
  }

  /** Identity headers as the gateway signs them, for a call straight to the second realtime replica. */
  function signedForReplica(who: Who, path: string): Record<string, string> {
    const identity: Identity = {
      userId: who,
      role: PEOPLE[who].role,
      authorityId: PEOPLE[who].authorityId ?? null,
      requestId: `e2e-${randomUUID()}`,
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    };
    return signIdentity(parseSigningKey(p.identityKeys.gateway), identity, 'GET', path, EMPTY_BODY_DIGEST);
  }

  beforeAll(async () => {
    // few streams per HTTP/2 connection gateway → realtime, so that this run needs several
    p = await startPlatform({ REALTIME_STREAMS_PER_CONNECTION: String(PER_CONNECTION) });
    vhost = decodeURIComponent(new URL(p.env.AMQP_URL).pathname.slice(1));
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"eAkteId":"EA-1"}'));
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    tokens.platformAdmin = await p.token({ role: 'platform-admin', authority: 'platform' });
    tokens.adminA = await p.token({ role: 'admin', authority: 'stadt-a' });
    tokens.adminB = await p.token({ role: 'admin', authority: 'stadt-b' });
    for (const [who, person] of Object.entries(PEOPLE) as Array<[Who, (typeof PEOPLE)[Who]]>)
      tokens[who] = await p.token(
        person.role === 'citizen' ? { role: 'citizen', sub: who } : { role: 'official', sub: who, authority: person.authorityId },
      );

    key = await makeEncryptionKey('stadt-key', 'ec');
    for (const [id, admin] of [
      ['stadt-a', tokens.adminA],
      ['stadt-b', tokens.adminB],
    ] as const) {
      const created = await call(tokens.platformAdmin, 'POST', '/authorities', {
        id,
        name: `Stadt ${id}`,
        ingestUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/ingest`,
        ingestSecret: `whsec_${randomBytes(32).toString('base64')}`,
        retentionPeriod: 'P30D',
      });
      expect(created.status).toBe(201);
      expect((await call(admin, 'POST', `/authorities/${id}/units`, { id: 'poststelle', name: 'Poststelle' })).status).toBe(201);
      expect((await call(admin, 'POST', `/authorities/${id}/keys`, key.publicJwk)).status).toBe(201);
    }
    expect((await call(tokens.adminA, 'POST', '/authorities/stadt-a/units', { id: 'bauaufsicht', name: 'Bauaufsicht' })).status).toBe(201);
    expect(
      (
        await call(tokens.adminA, 'POST', '/authorities/stadt-a/routing-rules', {
          priority: 1,
          conditions: { referenceNumberPrefix: 'BA-' },
          targetUnitId: 'bauaufsicht',
        })
      ).status,
    ).toBe(201);
    probe = await EventProbe.create(p.env.AMQP_URL, []);
    for (const who of Object.keys(PEOPLE) as Who[]) {
      streams[who] = await openThroughGateway(who);
      seen[who] = 0;
    }
  }, 180_000);

  afterAll(async () => {
    await Promise.all(Object.values(streams).map((s) => s?.close()));
    replica2.child?.kill('SIGTERM');
    await probe?.close();
    receiver?.close();
    await p?.stop();
  });

  let documentId: string;
  let threadId: string;

  async function upload(who: Who, authorityId: string, referenceNumber: string): Promise<string> {
    const { body, contentType } = documentUpload(
      { referenceNumber, authorityId, documentType: 'ANTRAG' },
      await encryptCompact(key, 2_000),
    );
    const created = await pollUntil(
      async () => {
        const r = await call(tokens[who], 'POST', '/documents', body, { 'content-type': contentType });
        return r.status === 201 ? r : null;
      },
      { what: `${who}'s upload accepted` },
    );
    return created.body.id as string;
  }

  it('streams an upload, a message, a claim and an export to exactly the sessions allowed to see them', async () => {
    for (const s of Object.values(streams)) {
      expect(s.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(s.headers.get('x-accel-buffering')).toBe('no');
      expect(s.headers.get('content-encoding')).toBeNull();
    }

    // ── an upload each: erika's goes to stadt-a's Bauaufsicht (rule BA-), max's to stadt-b
    documentId = await upload('erika', 'stadt-a', 'BA-2026/0815');
    const maxDocument = await upload('max', 'stadt-b', 'X-1');
    await streams.erika.waitFor((e) => e.data.documentId === documentId && e.data.status === 'ROUTED', 'erika: ROUTED');
    await streams.max.waitFor((e) => e.data.documentId === maxDocument && e.data.status === 'ROUTED', 'max: ROUTED');
    let step = await settle();
    const status = (id: string, s: string) => ({ type: 'document.status-changed', documentId: id, status: s });
    expect(step.erika.map(view)).toEqual([status(documentId, 'RECEIVED'), status(documentId, 'ROUTED')]);
    expect(step.anna.map(view)).toEqual([status(documentId, 'RECEIVED'), status(documentId, 'ROUTED')]);
    expect(step.arne.map(view)).toEqual([status(documentId, 'ROUTED')]); // not yet on a unit when RECEIVED
    expect(step.max.map(view)).toEqual([status(maxDocument, 'RECEIVED'), status(maxDocument, 'ROUTED')]);
    expect(step.berta.map(view)).toEqual([status(maxDocument, 'RECEIVED'), status(maxDocument, 'ROUTED')]);

    // ── a message from erika (communication has learnt the unit: its queue is settled)
    const thread = await call(tokens.erika, 'POST', `/documents/${documentId}/threads`, { type: 'CHAT' });
    expect(thread.status).toBe(201);
    threadId = thread.body.id as string;
    await queueSettled(vhost, 'communication.events');
    const message = await call(tokens.erika, 'POST', `/threads/${threadId}/messages`, { contentBlob: await encryptCompact(key, 300) });
    expect(message.status).toBe(201);
    await streams.erika.waitFor((e) => e.data.messageId === message.body.id, 'erika: the message');
    step = await settle();
    const created = { type: 'message.created', documentId, threadId, messageId: message.body.id };
    for (const who of ['erika', 'anna', 'arne'] as const) expect({ who, got: step[who].map(view) }).toEqual({ who, got: [created] });
    expect(step.max).toEqual([]);
    expect(step.berta).toEqual([]);
    // ids, a status and the time: never the content
    expect(JSON.stringify(step.erika)).not.toContain(String(message.body.contentBlob).slice(0, 40));

    // ── anna claims the thread: the claim, then the document's ASSIGNED
    expect((await call(tokens.anna, 'POST', `/threads/${threadId}/claim`)).status).toBe(200);
    await streams.erika.waitFor((e) => e.data.status === 'ASSIGNED', 'erika: ASSIGNED');
    step = await settle();
    const claimed = [{ type: 'thread.claimed', documentId, threadId }, status(documentId, 'ASSIGNED')];
    for (const who of ['erika', 'anna', 'arne'] as const) expect({ who, got: step[who].map(view) }).toEqual({ who, got: claimed });
    expect(step.max).toEqual([]);
    expect(step.berta).toEqual([]);

    // ── anna exports it: the export's completion to the authority's staff, EXPORTED to everyone allowed
    const job = await call(tokens.anna, 'POST', '/exports', { documentId });
    expect(job.status).toBe(202);
    await streams.erika.waitFor((e) => e.data.status === 'EXPORTED', 'erika: EXPORTED', 60_000);
    await streams.arne.waitFor((e) => e.data.status === 'EXPORTED', 'arne: EXPORTED', 60_000);
    step = await settle();
    const completed = { type: 'export.completed', documentId, exportJobId: job.body.jobId };
    expect(step.erika.map(view)).toEqual([status(documentId, 'EXPORTED')]);
    for (const who of ['anna', 'arne'] as const)
      expect({ who, got: step[who].map(view) }).toEqual({ who, got: [completed, status(documentId, 'EXPORTED')] });
    expect(step.max).toEqual([]);
    expect(step.berta).toEqual([]);
  });

  it('resumes with Last-Event-ID after a reconnect, through the gateway and on a second replica; both replicas deliver to their own sessions', async () => {
    const port = await freePort();
    replica2.url = `http://127.0.0.1:${port}`;
    replica2.child = spawn(process.execPath, [join(ROOT, 'dist', 'apps', 'realtime', 'src', 'main.js')], {
      env: {
        ...p.env,
        ...devIdentityEnv(p.identityKeys, 'realtime'),
        REALTIME_PORT: String(port),
        REALTIME_STREAM_PORT: String(await freePort()),
        BIND_HOST: '127.0.0.1',
        ROUTING_ENGINE_URL: `http://127.0.0.1:${p.ports['routing-engine']}`,
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    await pollUntil(async () => (await fetch(`${replica2.url}/health/ready`).catch(() => null))?.status === 200, {
      what: 'the second realtime replica ready',
      timeoutMs: 60_000,
    });

    // erika and arne go away; meanwhile anna writes and gives the thread back
    const erikaLast = streams.erika.lastId!;
    const arneLast = streams.arne.lastId!;
    await Promise.all([streams.erika.close(), streams.arne.close()]);
    const reply = await call(tokens.anna, 'POST', `/threads/${threadId}/messages`, { contentBlob: await encryptCompact(key, 300) });
    expect(reply.status).toBe(201);
    expect((await call(tokens.anna, 'POST', `/threads/${threadId}/release`)).status).toBe(200);
    await streams.anna.waitFor((e) => e.event === 'thread.released', 'anna: the release');
    const missed = [
      { type: 'message.created', documentId, threadId, messageId: reply.body.id },
      { type: 'thread.released', documentId, threadId },
    ];

    // erika comes back on the second replica (straight, with the identity the gateway would sign)
    streams.erika = await mustOpenEventStream(`${replica2.url}/api/v1/events`, {
      ...signedForReplica('erika', '/api/v1/events'),
      'last-event-id': erikaLast,
    });
    // arne comes back through the gateway (the first replica)
    streams.arne = await openThroughGateway('arne', { 'last-event-id': arneLast });
    seen.erika = 0;
    seen.arne = 0;
    let step = await settle(['erika', 'arne', 'anna']);
    expect(step.erika.map(view)).toEqual(missed);
    expect(step.arne.map(view)).toEqual(missed);
    expect(step.erika.map((e) => e.id)).toEqual(step.arne.map((e) => e.id)); // the same ids on both replicas
    expect(streams.erika.of('reset')).toEqual([]);

    // anna also listens on the second replica: one event, each replica to its own sessions, one id
    const anna2 = await mustOpenEventStream(`${replica2.url}/api/v1/events`, signedForReplica('anna', '/api/v1/events'));
    const more = await call(tokens.erika, 'POST', `/threads/${threadId}/messages`, { contentBlob: await encryptCompact(key, 300) });
    expect(more.status).toBe(201);
    const onTwo = await anna2.waitFor((e) => e.data.messageId === more.body.id, 'anna on replica 2');
    step = await settle(['erika', 'arne', 'anna', 'max', 'berta']);
    const created = { type: 'message.created', documentId, threadId, messageId: more.body.id };
    for (const who of ['erika', 'anna', 'arne'] as const) {
      expect({ who, got: step[who].map(view) }).toEqual({ who, got: [created] });
      expect(step[who][0].id).toBe(onTwo.id);
    }
    expect(step.max).toEqual([]);
    expect(step.berta).toEqual([]);
    await anna2.close();
  }, 120_000);

  it('lets a browser open the stream with a single-use ticket, which is never forwarded or logged', async () => {
    const issued = await call(tokens.max, 'POST', '/events/tickets');
    expect(issued.status).toBe(200);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    const ticket = issued.body.ticket as string;
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(issued.body.expiresAt as string) - Date.now()).toBeLessThanOrEqual(30_000);

    const viaTicket = await mustOpenEventStream(eventsUrl(`?ticket=${ticket}`));
    expect(viaTicket.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const marker: EventMap['document.status-changed'] = {
      documentId: randomUUID(),
      citizenId: 'max',
      authorityId: 'nobody',
      unitId: null,
      status: 'ROUTED',
    };
    await probe.publish('document.status-changed', marker);
    await viaTicket.waitFor((e) => e.data.documentId === marker.documentId, 'max’s event through the ticket’s stream');
    await viaTicket.close();

    // single use, alone, and well-formed
    expect((await refusedStream(eventsUrl(`?ticket=${ticket}`), {})).status).toBe(401);
    const second = (await call(tokens.max, 'POST', '/events/tickets')).body.ticket as string;
    expect((await refusedStream(eventsUrl(`?ticket=${second}`), bearer('max'))).status).toBe(400);
    expect((await refusedStream(eventsUrl('?ticket=not-a-ticket'), {})).status).toBe(401);
    expect((await call(tokens.max, 'POST', '/events/tickets', { unitId: 'x' })).status).toBe(400);
    await pollUntil(async () => p.output().includes('ticket refused'), { what: 'the refusal logged' });
    expect(p.output()).not.toContain(ticket);
    expect(p.output()).not.toContain(second);
  });

  it('bounds what a caller may ask: units of their own authority only, a few streams per user', async () => {
    expect((await refusedStream(eventsUrl('?unitId=bauaufsicht'), bearer('erika'))).status).toBe(400);
    expect((await refusedStream(eventsUrl('?unitId=keine-einheit'), bearer('anna'))).status).toBe(404);
    expect((await refusedStream(eventsUrl('?unitId=bauaufsicht'), bearer('berta'))).status).toBe(404); // stadt-b has none
    expect((await refusedStream(eventsUrl('?unitId=NOT_AN_ID'), bearer('anna'))).status).toBe(400);
    expect((await refusedStream(eventsUrl(), { ...bearer('anna'), 'last-event-id': 'x1' })).status).toBe(400);
    expect((await refusedStream(eventsUrl(), {})).status).toBe(401);

    const zoe = await p.token({ role: 'citizen', sub: 'zoe' });
    const five = await Promise.all(Array.from({ length: 5 }, () => mustOpenEventStream(eventsUrl(), { authorization: `Bearer ${zoe}` })));
    const sixth = await refusedStream(eventsUrl(), { authorization: `Bearer ${zoe}` });
    expect(sixth.status).toBe(429);
    expect(sixth.problem.type).toMatch(/too-many-streams$/);
    await Promise.all(five.map((s) => s.close()));
  });

  it('lets go of realtime at once when the client goes away', async () => {
    const open = async () => {
      const text = await (await fetch(`http://127.0.0.1:${p.ports.realtime}/metrics`)).text();
      return Number(/^realtime_streams_open\{[^}]*\} (\d+)$/m.exec(text)?.[1]);
    };
    // streams earlier tests closed may still be ending at realtime: start from a count that holds still
    let last = -1;
    const before = await pollUntil(
      async () => {
        const now = await open();
        const still = now === last;
        last = now;
        return still ? { now } : null;
      },
      { what: 'the open streams to settle', intervalMs: 250 },
    ).then((r) => r.now);
    const s = await mustOpenEventStream(eventsUrl(), bearer('max'));
    await pollUntil(async () => (await open()) === before + 1, { what: 'the stream open at realtime' });
    await s.close();
    await pollUntil(async () => (await open()) === before, { what: 'realtime to end the stream the client left' });
  });

  it('carries the streams to realtime over HTTP/2, at most REALTIME_STREAMS_PER_CONNECTION per connection', async () => {
    const gauge = async (name: string) => {
      const text = await (await fetch(`http://127.0.0.1:${p.ports.realtime}/metrics`)).text();
      return Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1]);
    };
    const streams = [
      ...(await Promise.all([1, 2, 3].map(() => mustOpenEventStream(eventsUrl(), bearer('max'))))),
      ...(await Promise.all([1, 2, 3].map(() => mustOpenEventStream(eventsUrl(), bearer('berta'))))),
    ];
    const open = await pollUntil(
      async () => ((await gauge('realtime_streams_open')) >= streams.length ? gauge('realtime_streams_open') : null),
      {
        what: 'the streams open at realtime',
      },
    );
    const connections = await gauge('realtime_stream_connections');
    expect(connections).toBeGreaterThanOrEqual(Math.ceil(open / PER_CONNECTION));
    expect(connections).toBeGreaterThanOrEqual(3);
    await Promise.all(streams.map((s) => s.close()));
  });

  it('ends the stream when the token expires', async () => {
    const shortLived = await p.token({ role: 'citizen', sub: 'erika', ttlSeconds: 3 });
    const s = await mustOpenEventStream(eventsUrl(), { authorization: `Bearer ${shortLived}` });
    await s.waitFor((e) => e.event === 'expired', 'the expired event', 15_000);
    await s.ended;
    expect(s.events.at(-1)?.data).toEqual({ type: 'expired', reason: 'token-expired' });
  });

  it('answers as docs/openapi.json says', () => {
    expectResponsesMatchOpenApi(recorder, 8);
  });
});
