import { randomBytes, randomUUID } from 'node:crypto';
import { mountedPublicRoutes, registeredRoutesOf } from '@dvd/testing';
import { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  EventProbe,
  testIdentityEnv,
  TestEncryptionKey,
  TestUser,
  citizen,
  createTestDatabase,
  createTestVhost,
  encryptCompact,
  freePort,
  makeEncryptionKey,
  official,
  pollUntil,
  service,
  signedClient,
} from '@dvd/testing';
import { communicationConfigSchema } from '../../src/communication.config';
import { createCommunicationApp } from '../../src/main';

describe('communication (real Postgres and RabbitMQ)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  let app: INestApplication;
  let probe: EventProbe;
  let api: ReturnType<typeof signedClient>;
  let key: TestEncryptionKey;

  /**
   * Barrier: every event committed so far (an API call writes its events to the outbox in
   * its own transaction) has been relayed and read by the probe. After it, an event that is
   * not in `probe.received` was never emitted.
   */
  async function allEventsReceived() {
    const ds = app.get(DataSource);
    await pollUntil(async () => (await ds.query('SELECT count(*)::int AS n FROM outbox'))[0].n === 0, { what: 'outbox relayed' });
    await probe.barrier();
  }
  const doc1 = randomUUID(); // alice's, authority a1
  const doc2 = randomUUID(); // bob's, authority a2
  const alice = citizen('alice');
  const bob = citizen('bob');
  const o1 = official('a1', 'o1');
  const o1b = official('a1', 'o1b');
  const o2 = official('a2', 'o2');
  const blob = () => encryptCompact(key, 200);

  const as = (u: TestUser) => api.as(u);

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    const config = communicationConfigSchema.parse({
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...testIdentityEnv('communication'),
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      INTAKE_URL: `http://127.0.0.1:${await freePort()}`, // nothing listens: documents come from events here
      PUBLIC_BASE_URL: 'https://dvd.test.example',
    });
    app = await createCommunicationApp(config);
    await app.init();
    api = signedClient(app.getHttpServer());
    probe = await EventProbe.create(vhost.url, ['thread.created', 'thread.claimed', 'thread.released', 'thread.closed', 'message.posted']);
    key = await makeEncryptionKey('any');
    for (const [id, c, a] of [
      [doc1, 'alice', 'a1'],
      [doc2, 'bob', 'a2'],
    ]) {
      await probe.publish('document.received', {
        documentId: id,
        citizenId: c,
        authorityId: a,
        documentType: 'X',
        serviceKey: null,
        regionKey: null,
        referenceNumber: 'AZ-1',
        createdAt: new Date().toISOString(),
      });
    }
    await pollUntil(
      async () =>
        (await as(alice).get(`/api/v1/threads?documentId=${doc1}`)).status === 200 &&
        (await as(alice).post(`/api/v1/documents/${doc1}/threads`).send({ type: 'CHAT' })).status === 201,
      {
        what: 'documents known',
      },
    );
  }, 60_000);

  afterAll(async () => {
    await probe?.close();
    await app?.close();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  async function newThread(by: TestUser = alice, body: object = { type: 'CHAT' }, documentId = doc1): Promise<string> {
    const res = await as(by).post(`/api/v1/documents/${documentId}/threads`).send(body);
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  it('mounts exactly the public routes the contract registry gives communication', () => {
    expect(mountedPublicRoutes(app)).toEqual(registeredRoutesOf('communication'));
  });

  describe('authorization matrix', () => {
    it('opens threads for the document’s citizen and its authority’s officials only', async () => {
      expect((await as(alice).post(`/api/v1/documents/${doc1}/threads`).send({ type: 'CHAT' })).status).toBe(201);
      expect((await as(o1).post(`/api/v1/documents/${doc1}/threads`).send({ type: 'CHAT' })).status).toBe(201);
      expect((await as(bob).post(`/api/v1/documents/${doc1}/threads`).send({ type: 'CHAT' })).status).toBe(404);
      expect((await as(o2).post(`/api/v1/documents/${doc1}/threads`).send({ type: 'CHAT' })).status).toBe(404);
      expect((await as(alice).post(`/api/v1/documents/${randomUUID()}/threads`).send({ type: 'CHAT' })).status).toBe(503); // unknown here, intake unreachable
      expect((await as(alice).post(`/api/v1/documents/${doc1}/threads`).send({ type: 'GOSSIP' })).status).toBe(400);
    });

    it('shows a thread to its parties only', async () => {
      const id = await newThread();
      for (const [u, status] of [
        [alice, 200],
        [o1, 200],
        [bob, 404],
        [o2, 404],
      ] as const) {
        expect({ who: u.userId, status: (await as(u).get(`/api/v1/threads/${id}`)).status }).toEqual({ who: u.userId, status });
        expect({ who: u.userId, status: (await as(u).get(`/api/v1/threads/${id}/messages`)).status }).toEqual({ who: u.userId, status });
      }
      expect((await as(alice).get('/api/v1/threads/not-a-uuid')).status).toBe(404);
    });

    it('lets officials of the authority claim; the same again 200; someone else 409; citizens and other authorities 404', async () => {
      const id = await newThread();
      expect((await as(alice).post(`/api/v1/threads/${id}/claim`)).status).toBe(404);
      expect((await as(o2).post(`/api/v1/threads/${id}/claim`)).status).toBe(404);
      const first = await as(o1).post(`/api/v1/threads/${id}/claim`);
      expect(first.status).toBe(200);
      expect(first.body.assignedOfficialId).toBe('o1');
      expect((await as(o1).post(`/api/v1/threads/${id}/claim`)).status).toBe(200);
      expect((await as(o1b).post(`/api/v1/threads/${id}/claim`)).status).toBe(409);
      const event = await probe.waitFor('thread.claimed', (d) => d.threadId === id);
      // who may see it on the realtime stream (ADR 0021): the owner, the authority and its unit (none routed yet here)
      expect(event.data).toMatchObject({ documentId: doc1, officialId: 'o1', citizenId: 'alice', authorityId: 'a1', unitId: null });
      await allEventsReceived();
      expect(probe.of('thread.claimed', (d) => d.threadId === id)).toHaveLength(1); // the repeat claim emitted nothing
    });

    it('lets only the assignee release and close; posting to a closed thread is 409', async () => {
      const id = await newThread();
      await as(o1).post(`/api/v1/threads/${id}/claim`).expect(200);
      expect((await as(o1b).post(`/api/v1/threads/${id}/release`)).status).toBe(409);
      expect((await as(alice).post(`/api/v1/threads/${id}/release`)).status).toBe(404);
      expect((await as(o2).post(`/api/v1/threads/${id}/close`)).status).toBe(404);
      const released = await as(o1).post(`/api/v1/threads/${id}/release`);
      expect(released.body.assignedOfficialId).toBeNull();
      await as(o1b).post(`/api/v1/threads/${id}/claim`).expect(200);
      expect((await as(o1).post(`/api/v1/threads/${id}/close`)).status).toBe(409);
      const closed = await as(o1b).post(`/api/v1/threads/${id}/close`);
      expect(closed.body.status).toBe('CLOSED');
      const audience = { documentId: doc1, citizenId: 'alice', authorityId: 'a1', unitId: null };
      expect((await probe.waitFor('thread.released', (d) => d.threadId === id)).data).toEqual({ threadId: id, ...audience });
      expect((await probe.waitFor('thread.closed', (d) => d.threadId === id)).data).toEqual({ threadId: id, ...audience });
      expect(
        (
          await as(alice)
            .post(`/api/v1/threads/${id}/messages`)
            .send({ contentBlob: await blob() })
        ).status,
      ).toBe(409);
      expect(
        (
          await as(o1b)
            .post(`/api/v1/threads/${id}/messages`)
            .send({ contentBlob: await blob() })
        ).status,
      ).toBe(409);
      expect((await as(o1).post(`/api/v1/threads/${id}/claim`)).status).toBe(409);
    });

    it('lets the citizen owner and the assignee post, nobody else', async () => {
      const id = await newThread();
      expect(
        (
          await as(alice)
            .post(`/api/v1/threads/${id}/messages`)
            .send({ contentBlob: await blob() })
        ).status,
      ).toBe(201);
      expect(
        (
          await as(o1)
            .post(`/api/v1/threads/${id}/messages`)
            .send({ contentBlob: await blob() })
        ).status,
      ).toBe(409); // not holding it
      await as(o1).post(`/api/v1/threads/${id}/claim`).expect(200);
      const posted = await as(o1)
        .post(`/api/v1/threads/${id}/messages`)
        .send({ contentBlob: await blob() });
      expect(posted.status).toBe(201);
      expect(posted.body).toMatchObject({ threadId: id, senderRole: 'official', contentBlob: expect.stringMatching(/^ey/) });
      expect(
        (
          await as(o1b)
            .post(`/api/v1/threads/${id}/messages`)
            .send({ contentBlob: await blob() })
        ).status,
      ).toBe(409);
      expect(
        (
          await as(bob)
            .post(`/api/v1/threads/${id}/messages`)
            .send({ contentBlob: await blob() })
        ).status,
      ).toBe(404);
      expect(
        (
          await as(o2)
            .post(`/api/v1/threads/${id}/messages`)
            .send({ contentBlob: await blob() })
        ).status,
      ).toBe(404);
      const event = await probe.waitFor('message.posted', (d) => d.messageId === posted.body.id);
      expect(event.data).toEqual({
        messageId: posted.body.id,
        threadId: id,
        documentId: doc1,
        senderRole: 'official',
        citizenId: 'alice',
        authorityId: 'a1',
        unitId: null,
      });
    });
  });

  describe('messages', () => {
    it('accepts only JWE content blobs of at most 256 KiB', async () => {
      const id = await newThread();
      const post = (body: object) => as(alice).post(`/api/v1/threads/${id}/messages`).send(body);
      expect((await post({ contentBlob: 'Hallo, bitte rufen Sie mich an: 0171 1234567' })).status).toBe(422);
      expect((await post({ contentBlob: Buffer.from('%PDF-1.4').toString() })).status).toBe(422);
      expect((await post({ contentBlob: (await blob()).slice(0, -10) })).status).toBe(422);
      expect((await post({ contentBlob: await encryptCompact(key, 300 * 1024) })).status).toBe(413);
      expect((await post({})).status).toBe(400);
      expect((await post({ contentBlob: await blob(), extra: 1 })).status).toBe(400);
      const longest = await encryptCompact(key, 180 * 1024);
      expect((await post({ contentBlob: longest })).status).toBe(201);
    });

    it('pages newest first and catches up with ?after= while messages are being posted: each seen exactly once, in order', async () => {
      const id = await newThread();
      await as(o1).post(`/api/v1/threads/${id}/claim`).expect(200);
      const posted: string[] = [];
      const writer = async (who: TestUser, n: number) => {
        for (let i = 0; i < n; i++) {
          const res = await as(who)
            .post(`/api/v1/threads/${id}/messages`)
            .send({ contentBlob: await blob() });
          expect(res.status).toBe(201);
          posted.push(res.body.id);
        }
      };
      await writer(alice, 15);
      let writing = true;
      const writers = Promise.all([writer(alice, 20), writer(o1, 20)]).finally(() => (writing = false));

      // backwards from a first page
      const first = await as(alice).get(`/api/v1/threads/${id}/messages?limit=7`);
      const newestAtStart = first.body.items[0].id as string;
      const backwards: Array<{ id: string; createdAt: string }> = [...first.body.items];
      let cursor: string | null = first.body.nextCursor;
      while (cursor) {
        const page = await as(alice).get(`/api/v1/threads/${id}/messages?limit=7&cursor=${encodeURIComponent(cursor)}`);
        backwards.push(...page.body.items);
        cursor = page.body.nextCursor;
      }
      // forwards from the newest seen, until the writers are done and nothing new comes
      const forwards: Array<{ id: string; createdAt: string }> = [];
      let anchor = newestAtStart;
      for (;;) {
        const stillWriting = writing;
        const page = await as(o1).get(`/api/v1/threads/${id}/messages?limit=5&after=${anchor}`);
        forwards.push(...page.body.items);
        if (page.body.items.length) anchor = page.body.items[page.body.items.length - 1].id;
        else if (!stillWriting) break;
      }
      await writers;

      const ids = [...backwards, ...forwards].map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length); // nothing repeated
      expect(new Set(ids)).toEqual(new Set(posted)); // nothing skipped
      const times = (list: Array<{ createdAt: string }>) => list.map((m) => m.createdAt);
      expect(times(backwards)).toEqual([...times(backwards)].sort().reverse());
      expect(times(forwards)).toEqual([...times(forwards)].sort());
    });
  });

  describe('appointments and callbacks', () => {
    const slots = [
      { start: '2026-12-01T09:00:00Z', end: '2026-12-01T09:30:00Z' },
      { start: '2026-12-02T14:00:00+01:00', end: '2026-12-02T14:30:00+01:00' },
    ];

    it('lets officials propose slots and the citizen confirm only a proposed one', async () => {
      expect(
        (
          await as(alice)
            .post(`/api/v1/documents/${doc1}/threads`)
            .send({ type: 'APPOINTMENT', appointment: { proposedSlots: slots } })
        ).status,
      ).toBe(422);
      const id = await newThread(o1, { type: 'APPOINTMENT', appointment: { proposedSlots: slots } });
      const confirm = (u: TestUser, start: string) => as(u).post(`/api/v1/threads/${id}/appointment/confirm`).send({ start });
      expect((await confirm(alice, '2026-12-01T10:00:00Z')).status).toBe(422);
      expect((await confirm(o1, slots[0].start)).status).toBe(404);
      expect((await confirm(bob, slots[0].start)).status).toBe(404);
      const ok = await confirm(alice, '2026-12-02T13:00:00Z'); // the same instant as slot 2, in UTC
      expect(ok.status).toBe(200);
      expect(ok.body.appointment.confirmedSlot).toEqual({ start: '2026-12-02T13:00:00.000Z', end: '2026-12-02T13:30:00.000Z' });
      expect((await confirm(alice, '2026-12-02T13:00:00Z')).status).toBe(200);
      expect((await confirm(alice, slots[0].start)).status).toBe(409);
      const chat = await newThread();
      expect((await as(alice).post(`/api/v1/threads/${chat}/appointment/confirm`).send({ start: slots[0].start })).status).toBe(422);
    });

    it('validates callback windows', async () => {
      const bad = await as(alice)
        .post(`/api/v1/documents/${doc1}/threads`)
        .send({ type: 'CALLBACK', callback: { preferredFrom: '2026-12-01T12:00:00Z', preferredTo: '2026-12-01T10:00:00Z' } });
      expect(bad.status).toBe(400);
      const id = await newThread(alice, {
        type: 'CALLBACK',
        callback: { preferredFrom: '2026-12-01T10:00:00Z', preferredTo: '2026-12-01T12:00:00Z' },
      });
      const got = await as(o1).get(`/api/v1/threads/${id}`);
      expect(got.body.callback).toEqual({ preferredFrom: '2026-12-01T10:00:00.000Z', preferredTo: '2026-12-01T12:00:00.000Z' });
    });
  });

  describe('inbox', () => {
    it('shows citizens their threads and officials their authority’s, with filters', async () => {
      const t2 = await newThread(bob, { type: 'CHAT' }, doc2);
      const mine = await newThread(o1, {
        type: 'CALLBACK',
        callback: { preferredFrom: '2026-12-01T10:00:00Z', preferredTo: '2026-12-01T11:00:00Z' },
      });
      await as(o1).post(`/api/v1/threads/${mine}/claim`).expect(200);
      const ids = async (u: TestUser, q = '') => {
        const all: string[] = [];
        let cursor: string | null = null;
        do {
          const res = await as(u).get(`/api/v1/threads?limit=3${q}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
          expect(res.status).toBe(200);
          all.push(...res.body.items.map((t: { id: string }) => t.id));
          cursor = res.body.nextCursor;
        } while (cursor);
        return all;
      };
      expect(await ids(bob)).toEqual([t2]);
      expect(await ids(o2)).toEqual([t2]);
      expect(await ids(alice)).not.toContain(t2);
      const assignedToMe = await ids(o1, '&assigned=me&type=CALLBACK');
      expect(assignedToMe).toEqual([mine]);
      expect(await ids(o1, '&assigned=none')).not.toContain(mine);
      expect(await ids(o1b, '&assigned=me')).not.toContain(mine);
      expect((await ids(o1, `&documentId=${doc2}`)).length).toBe(0);
      expect((await ids(o1, '&status=CLOSED')).length).toBeGreaterThan(0);
      expect((await as(o1).get('/api/v1/threads?assigned=somebody')).status).toBe(400);
    });
  });

  describe('claim race', () => {
    it('lets exactly one of 10 parallel claims by 10 officials win', async () => {
      const id = await newThread();
      const officials = Array.from({ length: 10 }, (_, i) => official('a1', `racer-${i}-${randomBytes(2).toString('hex')}`));
      const results = await Promise.all(officials.map((o) => as(o).post(`/api/v1/threads/${id}/claim`)));
      const winners = results.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => r.status === 409)).toHaveLength(9);
      const holder = (await as(o1).get(`/api/v1/threads/${id}`)).body.assignedOfficialId;
      expect(holder).toBe(winners[0].body.assignedOfficialId);
      await probe.waitFor('thread.claimed', (d) => d.threadId === id);
      await allEventsReceived();
      expect(probe.of('thread.claimed', (d) => d.threadId === id)).toHaveLength(1);
    });
  });

  describe('internal thread API for export-worker (keyset-paged)', () => {
    const worker = service('export-worker');
    const all = async (path: string, limit: number) => {
      const items: Array<Record<string, unknown>> = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await as(worker).get(`${path}?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(limit);
        items.push(...(res.body.items as Array<Record<string, unknown>>));
        cursor = res.body.nextCursor as string | null;
        pages++;
      } while (cursor);
      return { items, pages };
    };

    it('pages a document’s threads and each thread’s messages oldest first, every one exactly once', async () => {
      const threads = [await newThread(bob, { type: 'CHAT' }, doc2), await newThread(bob, { type: 'CHAT' }, doc2)];
      const posted: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await as(bob)
          .post(`/api/v1/threads/${threads[1]}/messages`)
          .send({ contentBlob: await blob() })
          .expect(201);
        posted.push(res.body.id as string);
      }
      const listed = await all(`/internal/documents/${doc2}/threads`, 1);
      expect(listed.items.map((t) => t.id).slice(-2)).toEqual(threads);
      expect(listed.pages).toBe(listed.items.length);
      const messages = await all(`/internal/documents/${doc2}/threads/${threads[1]}/messages`, 2);
      expect(messages.items.map((m) => m.id)).toEqual(posted);
      expect(messages.pages).toBe(3);
      expect(Object.keys(messages.items[0]).sort()).toEqual(['contentBlob', 'createdAt', 'id', 'senderRole']);
      expect((await all(`/internal/documents/${doc2}/threads/${threads[0]}/messages`, 100)).items).toEqual([]);
    });

    it('bounds pages, refuses foreign cursors and threads of other documents, and serves services only', async () => {
      const thread = await newThread(bob, { type: 'CHAT' }, doc2);
      const base = `/internal/documents/${doc2}/threads/${thread}/messages`;
      expect((await as(worker).get(`${base}?limit=101`)).status).toBe(400);
      expect((await as(worker).get(`${base}?cursor=bm9wZQ`)).status).toBe(400);
      const notUuid = Buffer.from(JSON.stringify([new Date().toISOString(), 'x'])).toString('base64url');
      expect((await as(worker).get(`${base}?cursor=${notUuid}`)).status).toBe(400);
      expect((await as(worker).get(`/internal/documents/${doc1}/threads/${thread}/messages`)).status).toBe(404);
      expect((await as(worker).get(`/internal/documents/${randomUUID()}/threads`)).body).toEqual({ items: [], nextCursor: null });
      expect((await as(bob).get(base)).status).toBe(404);
      expect((await as(o2).get(`/internal/documents/${doc2}/threads`)).status).toBe(404);
    });
  });

  describe('retention', () => {
    it('deletes a purged document’s threads and messages', async () => {
      const id = await newThread();
      await as(alice)
        .post(`/api/v1/threads/${id}/messages`)
        .send({ contentBlob: await blob() })
        .expect(201);
      await probe.publish('document.purged', { documentId: doc1, authorityId: 'a1' });
      await pollUntil(async () => (await as(alice).get(`/api/v1/threads/${id}`)).status === 404, { what: 'thread gone' });
      expect((await as(alice).get(`/api/v1/threads?documentId=${doc1}`)).body.items).toEqual([]);
    });
  });

  describe('events out of order', () => {
    it('keeps the unit of a document.routed handled before its document.received (retried until the document is known)', async () => {
      const doc = randomUUID();
      await probe.publish('document.routed', {
        documentId: doc,
        authorityId: 'a1',
        unitId: 'u-late',
        ruleId: null,
        revision: 1,
        claimDeadline: 'P3D',
      });
      await probe.publish('document.received', {
        documentId: doc,
        citizenId: 'alice',
        authorityId: 'a1',
        documentType: 'X',
        serviceKey: null,
        regionKey: null,
        referenceNumber: 'AZ-4',
        createdAt: new Date().toISOString(),
      });
      // intake does not answer here, so the routed event is retried (5 s) and then finds the row
      const unit = await pollUntil(
        async () => {
          const rows = (await app.get(DataSource).query(`SELECT unit_id FROM known_documents WHERE document_id = $1`, [doc])) as Array<{
            unit_id: string | null;
          }>;
          return rows[0]?.unit_id ?? null;
        },
        { what: 'the unit of the early document.routed', timeoutMs: 30_000 },
      );
      expect(unit).toBe('u-late');
    }, 45_000);
  });

  const doc3 = randomUUID();
  describe('what citizens see of a thread', () => {
    beforeAll(async () => {
      await probe.publish('document.received', {
        documentId: doc3,
        citizenId: 'alice',
        authorityId: 'a1',
        documentType: 'X',
        serviceKey: null,
        regionKey: null,
        referenceNumber: 'AZ-3',
        createdAt: new Date().toISOString(),
      });
      await pollUntil(
        async () => (await app.get(DataSource).query(`SELECT 1 FROM known_documents WHERE document_id = $1`, [doc3])).length === 1,
        {
          what: 'document known',
        },
      );
    });

    it('shows citizens whether a thread is held, never by whom (an IdP subject of the staff)', async () => {
      const id = await newThread(alice, { type: 'CHAT' }, doc3);
      const open = await as(alice).get(`/api/v1/threads/${id}`);
      expect(open.body).toMatchObject({ id, assigned: false });
      expect(open.body).not.toHaveProperty('assignedOfficialId');
      await as(o1).post(`/api/v1/threads/${id}/claim`).expect(200);
      const held = await as(alice).get(`/api/v1/threads/${id}`);
      expect(held.body).toMatchObject({ id, assigned: true });
      expect(held.body).not.toHaveProperty('assignedOfficialId');
      expect(JSON.stringify(held.body)).not.toContain('o1');
      const inbox = await as(alice).get(`/api/v1/threads?documentId=${doc3}&limit=100`);
      const listed = (inbox.body.items as Array<Record<string, unknown>>).find((t) => t.id === id)!;
      expect(listed).toMatchObject({ assigned: true });
      expect(listed).not.toHaveProperty('assignedOfficialId');
      // officials still see the holder
      expect((await as(o1b).get(`/api/v1/threads/${id}`)).body).toMatchObject({ assigned: true, assignedOfficialId: 'o1' });
    });
  });

  describe('paging', () => {
    const uuid = '0b9d0c4e-3f2c-4b8e-9a51-1f5f0d7c1a22';
    const forged = [
      Buffer.from(JSON.stringify(['2026-11-26T10:00:00.123456Z', 'not-a-uuid'])).toString('base64url'),
      Buffer.from(JSON.stringify(['1', uuid])).toString('base64url'),
      Buffer.from(JSON.stringify(['2026-02-30T10:00:00Z', uuid])).toString('base64url'),
      'garbage!',
    ];

    it.each(forged)('answers a forged cursor %p with 400 problem+json on every list', async (cursor) => {
      const id = (await as(alice).get(`/api/v1/threads?documentId=${doc3}`)).body.items[0].id as string;
      for (const [who, path] of [
        [o1, `/api/v1/threads?cursor=${encodeURIComponent(cursor)}`],
        [alice, `/api/v1/threads?documentId=${doc3}&cursor=${encodeURIComponent(cursor)}`],
        [alice, `/api/v1/threads/${id}/messages?cursor=${encodeURIComponent(cursor)}`],
      ] as const) {
        const res = await as(who).get(path);
        expect({ path, status: res.status }).toEqual({ path, status: 400 });
        expect(res.headers['content-type']).toMatch(/problem\+json/);
        expect(res.body.errors).toEqual([{ field: 'cursor', message: expect.any(String) }]);
      }
    });
  });
});
