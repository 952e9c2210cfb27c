import { randomBytes, randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventMap } from '@dvd/contracts';
import { Messaging } from '@dvd/platform';
import {
  EventProbe,
  TEST_REDIS_URL,
  admin,
  createTestDatabase,
  createTestVhost,
  platformAdmin,
  pollUntil,
  queueSettled,
  service,
  signedClient,
  testIdentityEnv,
  uniqueName,
} from '@dvd/testing';
import { createRoutingEngineApp } from '../../src/main';
import { routingEngineConfigSchema } from '../../src/routing-engine.config';

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * Re-routing (ADR 0020) over the real Postgres, RabbitMQ and Redis, with two replicas
 * competing for the events: unroutable documents are routed again when their authority
 * gains a unit or a rule, each exactly once; intake's manual re-routing decides again.
 */
describe('re-routing unroutable documents (real Postgres, RabbitMQ, Redis; two replicas)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  let probe: EventProbe;
  const apps: INestApplication[] = [];
  let a: ReturnType<typeof signedClient>;
  let sql: DataSource;

  async function startApp() {
    const config = routingEngineConfigSchema.parse({
      LOG_LEVEL: 'silent',
      ...testIdentityEnv('routing-engine'),
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: `${uniqueName('reroute')}:`,
      SECRETS_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    });
    const app = await createRoutingEngineApp(config);
    await app.init();
    apps.push(app);
    return app;
  }

  const received = (authorityId: string, over: Partial<EventMap['document.received']> = {}): EventMap['document.received'] => ({
    documentId: randomUUID(),
    citizenId: 'citizen-1',
    authorityId,
    documentType: 'WIDERSPRUCH',
    serviceKey: null,
    regionKey: '091620000000',
    referenceNumber: `AZ-${randomUUID()}`,
    createdAt: new Date().toISOString(),
    ...over,
  });

  const register = (id: string, claimDeadline?: string) =>
    a
      .as(platformAdmin())
      .post('/api/v1/authorities')
      .send({
        id,
        name: id,
        ingestUrl: 'https://eakte.example/ingest',
        ingestSecret: secret(),
        retentionPeriod: 'P180D',
        ...(claimDeadline ? { claimDeadline } : {}),
      })
      .expect(201);

  const decisions = async (authorityId: string) =>
    (await sql.query(`SELECT document_id, outcome, unit_id, reason, revision, facts FROM routing_decisions WHERE authority_id = $1`, [
      authorityId,
    ])) as Array<{ document_id: string; outcome: string; unit_id: string | null; reason: string | null; revision: number; facts: unknown }>;

  /** Every event in flight handled and relayed, and read by the probe: what it has not seen was not published. */
  async function settled() {
    for (const app of apps) await queueSettled(vhost.name, app.get(Messaging).queueName);
    await pollUntil(async () => (await sql.query('SELECT count(*)::int AS n FROM outbox'))[0].n === 0, { what: 'outbox relayed' });
    await probe.barrier();
  }

  async function unroutable(docs: Array<EventMap['document.received']>) {
    for (const doc of docs) await probe.publish('document.received', doc);
    await pollUntil(
      async () => {
        const rows = (await sql.query(`SELECT count(*)::int AS n FROM routing_decisions WHERE document_id = ANY($1)`, [
          docs.map((d) => d.documentId),
        ])) as Array<{ n: number }>;
        return rows[0].n === docs.length;
      },
      { what: 'documents decided' },
    );
  }

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    a = signedClient((await startApp()).getHttpServer());
    await startApp(); // replica B: a competing consumer on the same queue
    sql = apps[0].get(DataSource);
    probe = await EventProbe.create(vhost.url, ['document.routed']);
  }, 60_000);

  afterAll(async () => {
    await probe?.close();
    for (const app of apps) await app.close();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  it('routes every unroutable document of an authority within seconds of its first unit, each exactly once', async () => {
    await register('amt-ohne-einheit', 'PT2S');
    const docs = Array.from({ length: 20 }, () => received('amt-ohne-einheit'));
    const ghost = received('no-such-authority');
    await unroutable([...docs, ghost]);
    const before = await decisions('amt-ohne-einheit');
    expect(before.every((d) => d.outcome === 'UNROUTABLE' && d.reason === 'no-unit')).toBe(true);
    // what the rules look at is kept while the document waits (and nothing else of it)
    expect(Object.keys(before[0].facts as object).sort()).toEqual(['documentType', 'referenceNumber', 'regionKey', 'serviceKey']);

    // the first unit, then at once a second unit, a new default and a rule: several re-routing runs on two replicas
    await a
      .as(admin('amt-ohne-einheit'))
      .post('/api/v1/authorities/amt-ohne-einheit/units')
      .send({ id: 'poststelle', name: 'Poststelle' })
      .expect(201);
    await a
      .as(admin('amt-ohne-einheit'))
      .post('/api/v1/authorities/amt-ohne-einheit/units')
      .send({ id: 'sozial', name: 'Sozial' })
      .expect(201);
    await a.as(admin('amt-ohne-einheit')).patch('/api/v1/authorities/amt-ohne-einheit').send({ defaultUnitId: 'sozial' }).expect(200);
    await a
      .as(admin('amt-ohne-einheit'))
      .post('/api/v1/authorities/amt-ohne-einheit/routing-rules')
      .send({ priority: 1, conditions: { documentType: 'WIDERSPRUCH' }, targetUnitId: 'sozial' })
      .expect(201);

    const ids = new Set(docs.map((d) => d.documentId));
    await pollUntil(async () => probe.of('document.routed', (d) => ids.has(d.documentId)).length >= docs.length, {
      timeoutMs: 10_000,
      what: 'every unroutable document routed',
    });
    await settled();
    const routed = probe.of('document.routed', (d) => ids.has(d.documentId));
    expect(routed).toHaveLength(docs.length); // once each, though several runs raced
    expect(new Set(routed.map((e) => e.data.documentId)).size).toBe(docs.length);
    for (const e of routed) {
      expect(['poststelle', 'sozial']).toContain(e.data.unitId);
      expect(e.data).toMatchObject({ authorityId: 'amt-ohne-einheit', revision: 2, claimDeadline: 'PT2S' });
    }
    const after = await decisions('amt-ohne-einheit');
    expect(after.every((d) => d.outcome === 'ROUTED' && d.reason === null && d.facts === null && d.revision === 2)).toBe(true);

    // gone from the unroutable list; the document of an unknown authority stays there
    const list = await a.as(platformAdmin()).get('/api/v1/admin/unroutable-documents?limit=100');
    expect(list.body.items.map((i: { documentId: string }) => i.documentId)).toEqual([ghost.documentId]);
    expect(probe.of('document.routed', (d) => d.documentId === ghost.documentId)).toHaveLength(0);
  });

  it('routes an unroutable document again after a rule change, by the new rule', async () => {
    await register('amt-regel');
    const doc = received('amt-regel', { documentType: 'BAUANTRAG' });
    await unroutable([doc]);
    // a unit that reached the database without an authority.changed (say, restored from a backup): nothing re-routed yet
    await sql.query(`INSERT INTO units (authority_id, id, name) VALUES ('amt-regel', 'bauaufsicht', 'Bauaufsicht')`);
    expect((await decisions('amt-regel'))[0]).toMatchObject({ outcome: 'UNROUTABLE' });

    const rule = await a
      .as(admin('amt-regel'))
      .post('/api/v1/authorities/amt-regel/routing-rules')
      .send({ priority: 1, conditions: { documentType: 'BAUANTRAG' }, targetUnitId: 'bauaufsicht' })
      .expect(201);
    const event = await probe.waitFor('document.routed', (d) => d.documentId === doc.documentId, 10_000);
    expect(event.data).toMatchObject({ unitId: 'bauaufsicht', ruleId: rule.body.id, revision: 2, claimDeadline: 'P3D' });
  });

  describe("intake's manual re-routing (POST /internal/routing-decisions/{documentId})", () => {
    const facts = (doc: EventMap['document.received']) => ({
      authorityId: doc.authorityId,
      documentType: doc.documentType,
      serviceKey: doc.serviceKey,
      regionKey: doc.regionKey,
      referenceNumber: doc.referenceNumber,
    });
    const reroute = (doc: EventMap['document.received'], caller = service('intake')) =>
      a.as(caller).post(`/internal/routing-decisions/${doc.documentId}`).send(facts(doc));

    beforeAll(async () => {
      await register('amt-hand', 'P1D');
      await a.as(admin('amt-hand')).post('/api/v1/authorities/amt-hand/units').send({ id: 'poststelle', name: 'Poststelle' }).expect(201);
      await a.as(admin('amt-hand')).post('/api/v1/authorities/amt-hand/units').send({ id: 'bauamt', name: 'Bauamt' }).expect(201);
    });

    it('applies a new rule to a routed document once; the same answer again changes nothing', async () => {
      const doc = received('amt-hand', { referenceNumber: 'BAU-2026/7' });
      await probe.publish('document.received', doc);
      expect((await probe.waitFor('document.routed', (d) => d.documentId === doc.documentId)).data).toMatchObject({
        unitId: 'poststelle',
        revision: 1,
      });
      const unchanged = await reroute(doc).expect(200);
      expect(unchanged.body).toEqual({
        documentId: doc.documentId,
        authorityId: 'amt-hand',
        outcome: 'ROUTED',
        unitId: 'poststelle',
        ruleId: null,
        reason: null,
        changed: false,
        revision: 1,
        claimDeadline: 'P1D',
      });
      const rule = await a
        .as(admin('amt-hand'))
        .post('/api/v1/authorities/amt-hand/routing-rules')
        .send({ priority: 1, conditions: { referenceNumberPrefix: 'BAU-' }, targetUnitId: 'bauamt' })
        .expect(201);
      // a rule change leaves routed documents where they are …
      expect((await reroute(doc).expect(200)).body).toMatchObject({ unitId: 'bauamt', ruleId: rule.body.id, changed: true, revision: 2 });
      // … and re-routing by hand applies it, once
      const [again, concurrent] = await Promise.all([reroute(doc), reroute(doc)]);
      expect([again.body.changed, concurrent.body.changed]).toEqual([false, false]);
      await settled();
      expect(probe.of('document.routed', (d) => d.documentId === doc.documentId).map((e) => [e.data.unitId, e.data.revision])).toEqual([
        ['poststelle', 1],
        ['bauamt', 2],
      ]);
    });

    it('decides a document it has not seen yet (its document.received still on the way) once', async () => {
      const doc = received('amt-hand', { referenceNumber: 'SOZ-1' });
      expect((await reroute(doc).expect(200)).body).toMatchObject({ outcome: 'ROUTED', unitId: 'poststelle', changed: true, revision: 1 });
      await probe.publish('document.received', doc); // arrives later: decided already, nothing more
      await settled();
      expect(probe.of('document.routed', (d) => d.documentId === doc.documentId)).toHaveLength(1);
    });

    it('answers UNROUTABLE while the authority has no unit, and stores the facts of a document decided without them', async () => {
      await register('amt-leer');
      const doc = received('amt-leer');
      await unroutable([doc]);
      await sql.query(`UPDATE routing_decisions SET facts = NULL WHERE document_id = $1`, [doc.documentId]); // decided before facts were kept
      expect((await reroute(doc).expect(200)).body).toMatchObject({
        outcome: 'UNROUTABLE',
        unitId: null,
        reason: 'no-unit',
        changed: false,
      });
      expect((await decisions('amt-leer'))[0].facts).toMatchObject({ referenceNumber: doc.referenceNumber });
      // so the first unit routes it
      await a.as(admin('amt-leer')).post('/api/v1/authorities/amt-leer/units').send({ id: 'eins', name: 'Eins' }).expect(201);
      await probe.waitFor('document.routed', (d) => d.documentId === doc.documentId, 10_000);
    });

    it('serves intake only, with a valid body and a uuid', async () => {
      const doc = received('amt-hand');
      expect((await reroute(doc, service('export-worker'))).status).toBe(404);
      expect((await reroute(doc, service('communication'))).status).toBe(401);
      expect((await reroute(doc, admin('amt-hand'))).status).toBe(404);
      expect((await a.as(service('intake')).post('/internal/routing-decisions/nope').send(facts(doc))).status).toBe(404);
      expect(
        (await a.as(service('intake')).post(`/internal/routing-decisions/${doc.documentId}`).send({ authorityId: 'amt-hand' })).status,
      ).toBe(400);
    });
  });
});
