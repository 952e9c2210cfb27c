import { ChildProcess, spawn } from 'node:child_process';
import { mountedPublicRoutes, registeredRoutesOf } from '@dvd/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { exportJWK, generateKeyPair } from 'jose';
import { EventMap } from '@dvd/contracts';
import {
  EventProbe,
  testIdentityEnv,
  TEST_REDIS_URL,
  admin,
  citizen,
  createTestDatabase,
  createTestVhost,
  freePort,
  official,
  platformAdmin,
  pollUntil,
  queueSettled,
  signedClient,
  uniqueName,
} from '@dvd/testing';
import { Messaging } from '@dvd/platform';
import { createRoutingEngineApp } from '../../src/main';
import { routingEngineConfigSchema } from '../../src/routing-engine.config';

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const keyring = `k1:${randomBytes(32).toString('base64')}`;

describe('routing engine (real Postgres, RabbitMQ, Redis)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  let probe: EventProbe;
  const apps: INestApplication[] = [];
  let a: ReturnType<typeof signedClient>;
  const redisPrefix = `${uniqueName('test')}:`;

  async function startApp(env: Record<string, string> = {}) {
    const config = routingEngineConfigSchema.parse({
      LOG_LEVEL: 'silent',
      ...testIdentityEnv('routing-engine'),
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      SECRETS_ENCRYPTION_KEYS: keyring,
      ...env,
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
    referenceNumber: `BAU-${randomUUID()}`,
    createdAt: new Date().toISOString(),
    ...over,
  });

  async function routedUnit(doc: EventMap['document.received']) {
    await probe.publish('document.received', doc);
    return (await probe.waitFor('document.routed', (d) => d.documentId === doc.documentId)).data;
  }

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    const [appA, appB] = [await startApp(), await startApp()];
    a = signedClient(appA.getHttpServer());
    void appB; // replica B: a competing consumer on the same queue
    probe = await EventProbe.create(vhost.url, ['document.routed', 'authority.changed', 'routing-rules.changed']);

    const created = await a.as(platformAdmin()).post('/api/v1/authorities').send({
      id: 'a1',
      name: 'Bauamt Musterstadt',
      ingestUrl: 'https://eakte.example/ingest',
      ingestSecret: secret(),
      retentionPeriod: 'P180D',
    });
    expect(created.status).toBe(201);
    await a
      .as(platformAdmin())
      .post('/api/v1/authorities')
      .send({ id: 'a2', name: 'Sozialamt', ingestUrl: 'https://other.example/ingest', ingestSecret: secret(), retentionPeriod: 'PT5S' })
      .expect(201);
  }, 60_000);

  afterAll(async () => {
    await probe?.close();
    for (const app of apps) await app.close();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  it('mounts exactly the public routes the contract registry gives routing-engine', async () => {
    expect(mountedPublicRoutes(await startApp())).toEqual(registeredRoutesOf('routing-engine'));
  });

  describe('authorities and units', () => {
    it('registers an authority for platform admins only, never returning the ingest secret', async () => {
      const res = await a.as(citizen()).get('/api/v1/authorities/a1');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: 'a1',
        name: 'Bauamt Musterstadt',
        retentionPeriod: 'P180D',
        claimDeadline: 'P3D', // the default
        defaultUnitId: null,
        units: [],
      });
      const own = await a.as(admin('a1')).get('/api/v1/authorities/a1');
      expect(own.body.ingestUrl).toBe('https://eakte.example/ingest');
      expect(JSON.stringify(own.body)).not.toContain('whsec_');
      expect(
        (
          await a
            .as(admin('a1'))
            .post('/api/v1/authorities')
            .send({ id: 'a3', name: 'x', ingestUrl: 'https://x.example', ingestSecret: secret(), retentionPeriod: 'P1D' })
        ).status,
      ).toBe(404);
      expect(
        (
          await a
            .as(platformAdmin())
            .post('/api/v1/authorities')
            .send({ id: 'a1', name: 'again', ingestUrl: 'https://x.example', ingestSecret: secret(), retentionPeriod: 'P1D' })
        ).status,
      ).toBe(409);
      const event = await probe.waitFor('authority.changed', (d) => d.authorityId === 'a1');
      expect(event.data).toMatchObject({ name: 'Bauamt Musterstadt', retentionPeriod: 'P180D', activeKeyIds: [] });
      expect(JSON.stringify(event)).not.toContain('whsec_');
    });

    it.each([
      ['a bad id', { id: 'A_1' }, 'id'],
      ['a bad retention period', { retentionPeriod: '180 days' }, 'retentionPeriod'],
      ['a zero retention period', { retentionPeriod: 'P0D' }, 'retentionPeriod'],
      ['a secret without whsec_', { ingestSecret: randomBytes(32).toString('base64') }, 'ingestSecret'],
      ['a too short secret', { ingestSecret: `whsec_${randomBytes(16).toString('base64')}` }, 'ingestSecret'],
      ['a non-http ingest URL', { ingestUrl: 'ftp://x.example/in' }, 'ingestUrl'],
      ['an unknown field', { owner: 'x' }, 'owner'],
    ])('refuses %s with 400 naming the field', async (_n, over, field) => {
      const body = { id: 'a9', name: 'x', ingestUrl: 'https://x.example', ingestSecret: secret(), retentionPeriod: 'P1D', ...over };
      const res = await a.as(platformAdmin()).post('/api/v1/authorities').send(body);
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect((await a.as(citizen()).get('/api/v1/authorities/a9')).status).toBe(404);
    });

    it('makes the first unit the default, and lets only the authority admin manage units', async () => {
      expect(
        (await a.as(admin('a1')).post('/api/v1/authorities/a1/units').send({ id: 'poststelle', name: 'Poststelle' })).body,
      ).toMatchObject({ id: 'poststelle', isDefault: true });
      expect(
        (await a.as(admin('a1')).post('/api/v1/authorities/a1/units').send({ id: 'bauaufsicht', name: 'Bauaufsicht' })).body,
      ).toMatchObject({ isDefault: false });
      expect((await a.as(admin('a1')).post('/api/v1/authorities/a1/units').send({ id: 'bauaufsicht', name: 'dup' })).status).toBe(409);
      expect((await a.as(admin('a2')).post('/api/v1/authorities/a1/units').send({ id: 'x', name: 'x' })).status).toBe(404);
      expect((await a.as(official('a1')).post('/api/v1/authorities/a1/units').send({ id: 'x', name: 'x' })).status).toBe(404);
      expect((await a.as(citizen()).patch('/api/v1/authorities/a1').send({ name: 'x' })).status).toBe(404);
      const res = await a.as(citizen()).get('/api/v1/authorities/a1');
      expect(res.body).toMatchObject({ defaultUnitId: 'poststelle', units: [{ id: 'poststelle' }, { id: 'bauaufsicht' }] });
    });

    it('patches name, retention, claim deadline and default unit; refuses an unknown default unit or a zero deadline', async () => {
      expect((await a.as(admin('a1')).patch('/api/v1/authorities/a1').send({ defaultUnitId: 'nope' })).status).toBe(422);
      const zero = await a.as(admin('a1')).patch('/api/v1/authorities/a1').send({ claimDeadline: 'PT0S' });
      expect(zero.status).toBe(400);
      expect(zero.body.errors).toEqual([{ field: 'claimDeadline', message: expect.stringContaining('positive') }]);
      const res = await a
        .as(admin('a1'))
        .patch('/api/v1/authorities/a1')
        .send({ retentionPeriod: 'P90D', name: 'Bauamt', claimDeadline: 'P2D' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: 'Bauamt', retentionPeriod: 'P90D', claimDeadline: 'P2D', defaultUnitId: 'poststelle' });
      await probe.waitFor('authority.changed', (d) => d.authorityId === 'a1' && d.retentionPeriod === 'P90D');
    });
  });

  describe('encryption key directory', () => {
    it('adds, lists and retires keys, publishing the active kids', async () => {
      const { publicKey, privateKey } = await generateKeyPair('RSA-OAEP-256', { modulusLength: 3072, extractable: true });
      const pub = { ...(await exportJWK(publicKey)), kid: 'a1-2026', alg: 'RSA-OAEP-256' };
      const added = await a.as(admin('a1')).post('/api/v1/authorities/a1/keys').send(pub);
      expect(added.status).toBe(201);
      expect(added.body).toMatchObject({ kid: 'a1-2026', use: 'enc', alg: 'RSA-OAEP-256' });
      expect((await a.as(admin('a1')).post('/api/v1/authorities/a1/keys').send(pub)).status).toBe(409);
      const priv = await a
        .as(admin('a1'))
        .post('/api/v1/authorities/a1/keys')
        .send({ ...(await exportJWK(privateKey)), kid: 'p', alg: 'RSA-OAEP-256' });
      expect(priv.status).toBe(422);
      expect(priv.body.type).toContain('/private-key');
      expect((await a.as(admin('a2')).post('/api/v1/authorities/a1/keys').send(pub)).status).toBe(404);

      const jwks = await a.as(citizen()).get('/api/v1/authorities/a1/keys');
      expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toEqual(['a1-2026']);
      expect(jwks.body.keys[0].d).toBeUndefined();
      await probe.waitFor('authority.changed', (d) => d.authorityId === 'a1' && d.activeKeyIds.includes('a1-2026'));

      expect((await a.as(admin('a1')).delete('/api/v1/authorities/a1/keys/a1-2026')).status).toBe(204);
      expect((await a.as(admin('a1')).delete('/api/v1/authorities/a1/keys/a1-2026')).status).toBe(404);
      expect((await a.as(citizen()).get('/api/v1/authorities/a1/keys')).body.keys).toEqual([]);
      expect((await a.as(admin('a1')).post('/api/v1/authorities/a1/keys').send(pub)).status).toBe(409); // a retired kid stays taken
      await probe.waitFor('authority.changed', (d) => d.authorityId === 'a1' && d.activeKeyIds.length === 0 && d.name === 'Bauamt');
    });
  });

  describe('routing rules', () => {
    let ruleId: string;

    it('validates rules', async () => {
      const post = (body: object) => a.as(admin('a1')).post('/api/v1/authorities/a1/routing-rules').send(body);
      expect((await post({ priority: 1, conditions: { documentType: 'X' }, targetUnitId: 'ghost' })).status).toBe(422);
      expect((await post({ priority: 1.5, conditions: { documentType: 'X' }, targetUnitId: 'bauaufsicht' })).status).toBe(400);
      expect((await post({ priority: 1, conditions: {}, targetUnitId: 'bauaufsicht' })).status).toBe(400);
      expect((await post({ priority: 1, conditions: { colour: 'red' }, targetUnitId: 'bauaufsicht' })).status).toBe(400);
      expect((await post({ priority: 1, conditions: { serviceKey: '123' }, targetUnitId: 'bauaufsicht' })).status).toBe(400);
      expect(
        (
          await a
            .as(official('a1'))
            .post('/api/v1/authorities/a1/routing-rules')
            .send({ priority: 1, conditions: { documentType: 'X' }, targetUnitId: 'bauaufsicht' })
        ).status,
      ).toBe(404);
    });

    it('creates, lists in evaluation order, replaces and deletes rules', async () => {
      const post = (body: object) => a.as(admin('a1')).post('/api/v1/authorities/a1/routing-rules').send(body);
      const r1 = await post({ priority: 20, conditions: { documentType: 'ANTRAG' }, targetUnitId: 'poststelle' });
      const r2 = await post({
        priority: 10,
        conditions: { referenceNumberPrefix: 'bau-', regionKeyPrefix: '0916' },
        targetUnitId: 'bauaufsicht',
      });
      expect(r1.status).toBe(201);
      expect(r1.headers.location).toBe(`/api/v1/authorities/a1/routing-rules/${r1.body.id}`);
      ruleId = r2.body.id;
      const list = await a.as(official('a1')).get('/api/v1/authorities/a1/routing-rules');
      expect(list.body.items.map((r: { id: string }) => r.id)).toEqual([r2.body.id, r1.body.id]);
      expect((await a.as(official('a2')).get('/api/v1/authorities/a1/routing-rules')).status).toBe(404);
      const put = await a
        .as(admin('a1'))
        .put(`/api/v1/authorities/a1/routing-rules/${r1.body.id}`)
        .send({ priority: 30, conditions: { documentType: 'ANTRAG' }, targetUnitId: 'poststelle' });
      expect(put.body.priority).toBe(30);
      expect((await a.as(admin('a1')).delete(`/api/v1/authorities/a1/routing-rules/${r1.body.id}`)).status).toBe(204);
      expect((await a.as(admin('a1')).delete(`/api/v1/authorities/a1/routing-rules/${r1.body.id}`)).status).toBe(404);
      expect((await a.as(admin('a2')).delete(`/api/v1/authorities/a1/routing-rules/${ruleId}`)).status).toBe(404);
    });

    it('routes document.received to document.routed by the rules, else to the default unit', async () => {
      expect(await routedUnit(received('a1', { referenceNumber: 'BAU-2026/1' }))).toMatchObject({
        unitId: 'bauaufsicht',
        ruleId,
        revision: 1,
        claimDeadline: 'P2D', // the authority's, as patched above
      });
      expect(await routedUnit(received('a1', { referenceNumber: 'SOZ-2026/1' }))).toMatchObject({ unitId: 'poststelle', ruleId: null });
    });

    it('obeys a rule change made through one replica for the very next document on the other', async () => {
      // from here on only replica B consumes events; A still serves HTTP (its outbox is relayed by B)
      await apps[0].get(Messaging).stop();
      for (const target of ['poststelle', 'bauaufsicht', 'poststelle']) {
        expect((await routedUnit(received('a1', { referenceNumber: 'BAU-warm' }))).unitId).not.toBe(target); // B has the old rules cached
        await a
          .as(admin('a1'))
          .put(`/api/v1/authorities/a1/routing-rules/${ruleId}`)
          .send({ priority: 10, conditions: { referenceNumberPrefix: 'BAU-' }, targetUnitId: target })
          .expect(200);
        expect((await routedUnit(received('a1', { referenceNumber: 'BAU-next' }))).unitId).toBe(target);
      }
    });

    it('applies a redelivered document.received once: one decision, one document.routed', async () => {
      const doc = received('a1');
      const envelope = await probe.publish('document.received', doc);
      await probe.publish('document.received', doc, envelope);
      await probe.publish('document.received', doc, { ...envelope, id: randomUUID() }); // a replay under a new event id
      await probe.waitFor('document.routed', (d) => d.documentId === doc.documentId);
      // barrier: all three copies handled and acked (after their commits), every emitted event relayed, and the probe has read them all
      await queueSettled(vhost.name, apps[1].get(Messaging).queueName);
      const ds = apps[1].get(DataSource);
      await pollUntil(async () => (await ds.query('SELECT count(*)::int AS n FROM outbox'))[0].n === 0, { what: 'outbox relayed' });
      await probe.barrier();
      expect(probe.of('document.routed', (d) => d.documentId === doc.documentId)).toHaveLength(1);
    });

    it('records documents for unknown authorities or authorities without units as unroutable, for platform admins', async () => {
      const ghost = received('no-such-authority');
      const unitless = received('a2');
      await probe.publish('document.received', ghost);
      await probe.publish('document.received', unitless);
      const page = await pollUntil(async () => {
        const res = await a.as(platformAdmin()).get('/api/v1/admin/unroutable-documents?limit=10');
        return res.body.items?.length === 2 ? res.body : null;
      });
      expect(page.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ documentId: ghost.documentId, reason: 'unknown-authority' }),
          expect.objectContaining({ documentId: unitless.documentId, authorityId: 'a2', reason: 'no-unit' }),
        ]),
      );
      expect(JSON.stringify(page)).not.toContain(ghost.referenceNumber);
      expect((await a.as(admin('a1')).get('/api/v1/admin/unroutable-documents')).status).toBe(404);
      expect(probe.of('document.routed', (d) => d.documentId === ghost.documentId)).toHaveLength(0);
    });
  });

  describe('with Redis down', () => {
    let redis: ChildProcess;
    let c: ReturnType<typeof signedClient>;

    beforeAll(async () => {
      const port = await freePort();
      redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      await pollUntil(
        async () => (await fetch(`http://127.0.0.1:${port}`).catch((e: { cause?: { code?: string } }) => e.cause?.code)) !== 'ECONNREFUSED',
      );
      // a third replica, alone with its own Redis: stop the others consuming so that it routes
      for (const app of apps.splice(0)) await app.close();
      c = signedClient((await startApp({ REDIS_URL: `redis://127.0.0.1:${port}` })).getHttpServer());
    });

    afterAll(() => {
      redis.kill('SIGKILL');
    });

    it('still routes from Postgres, and obeys rule changes', async () => {
      expect((await routedUnit(received('a1', { referenceNumber: 'BAU-warm' }))).unitId).toBe('poststelle'); // warms the cache
      redis.kill('SIGKILL');
      await new Promise((r) => redis.once('exit', r));
      expect((await routedUnit(received('a1', { referenceNumber: 'BAU-cold' }))).unitId).toBe('poststelle');
      await c
        .as(admin('a1'))
        .put(
          `/api/v1/authorities/a1/routing-rules/${(await c.as(admin('a1')).get('/api/v1/authorities/a1/routing-rules')).body.items[0].id}`,
        )
        .send({ priority: 10, conditions: { referenceNumberPrefix: 'BAU-' }, targetUnitId: 'bauaufsicht' })
        .expect(200);
      expect((await routedUnit(received('a1', { referenceNumber: 'BAU-after-change' }))).unitId).toBe('bauaufsicht');
    });
  });
});
