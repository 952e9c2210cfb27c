import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { ConfigError, SecretBox, ingestSecretContext } from '@dvd/platform';
import {
  TEST_REDIS_URL,
  admin,
  createTestDatabase,
  createTestVhost,
  official,
  platformAdmin,
  service,
  signedClient,
  testIdentityEnv,
  uniqueName,
} from '@dvd/testing';
import { RoutingEngineModule } from '../../src/app.module';
import { createRoutingEngineApp } from '../../src/main';
import { routingEngineConfigSchema } from '../../src/routing-engine.config';

const run = promisify(execFile);
const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;
const aesKey = () => randomBytes(32).toString('base64');

/** Every way the secret could show up in a dump: as sent, its base64 part, its key bytes as hex, and base64 of the whole text. */
function readableForms(secret: string): string[] {
  const b64 = secret.slice('whsec_'.length);
  return [secret, b64, Buffer.from(b64, 'base64').toString('hex'), Buffer.from(secret).toString('base64'), b64.slice(0, 16)];
}

describe('ingest secrets: sealed at rest, rotation with two active secrets, target policy (real Postgres)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  let sql: Client;
  const apps: INestApplication[] = [];
  const k1 = `k1:${aesKey()}`;
  const redisPrefix = `${uniqueName('test')}:`;

  function config(env: Record<string, string> = {}) {
    return routingEngineConfigSchema.parse({
      LOG_LEVEL: 'silent',
      ...testIdentityEnv('routing-engine'),
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      SECRETS_ENCRYPTION_KEYS: k1,
      ...env,
    });
  }

  async function start(env: Record<string, string> = {}) {
    const app = await createRoutingEngineApp(config(env));
    await app.init();
    apps.push(app);
    return signedClient(app.getHttpServer());
  }

  const pgDump = async () => (await run('pg_dump', ['--no-owner', '--data-only', db.url], { maxBuffer: 64 * 1024 * 1024 })).stdout;
  const sealedRows = async (authorityId: string) =>
    (
      await sql.query<{ sealed_secret: string }>(
        'SELECT sealed_secret FROM routing.ingest_secrets WHERE authority_id = $1 ORDER BY created_at DESC',
        [authorityId],
      )
    ).rows.map((r) => r.sealed_secret);

  let c: ReturnType<typeof signedClient>;
  const register = (id: string, secret: string, ingestUrl = 'https://eakte.example/ingest') =>
    c.as(platformAdmin()).post('/api/v1/authorities').send({ id, name: id, ingestUrl, ingestSecret: secret, retentionPeriod: 'P30D' });
  const internalIngest = async (id: string) =>
    (await c.as(service('export-worker')).get(`/internal/authorities/${id}/ingest`)).body as { ingestUrl: string; ingestSecrets: string[] };
  const openAll = (box: SecretBox, id: string, sealed: string[]) => sealed.map((s) => box.open(s, ingestSecretContext(id)));

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    sql = new Client({ connectionString: db.url });
    await sql.connect();
    c = await start();
  }, 60_000);

  afterAll(async () => {
    for (const app of apps) await app.close();
    await sql?.end();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  it('stores the secret only sealed: neither pg_dump nor any text column shows it in any form', async () => {
    const secret = whsec();
    expect((await register('dump-a', secret)).status).toBe(201);
    const dump = await pgDump();
    expect(dump).toContain('dump-a'); // the dump is real and has the authority
    for (const form of readableForms(secret)) expect(dump).not.toContain(form);
    // and every text column of every table, searched directly
    const columns = await sql.query<{ table_schema: string; table_name: string; column_name: string }>(
      `SELECT table_schema, table_name, column_name FROM information_schema.columns
        WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND data_type IN ('text', 'jsonb', 'character varying')`,
    );
    for (const col of columns.rows) {
      const hits = await sql.query(
        `SELECT 1 FROM "${col.table_schema}"."${col.table_name}" WHERE "${col.column_name}"::text LIKE '%' || $1 || '%' LIMIT 1`,
        [secret.slice(6, 30)],
      );
      expect({ column: `${col.table_name}.${col.column_name}`, hits: hits.rowCount }).toEqual({
        column: `${col.table_name}.${col.column_name}`,
        hits: 0,
      });
    }
    const [sealed] = await sealedRows('dump-a');
    expect(sealed).toMatch(/^v1\.k1\./);
    // the export worker gets the envelope (never the plaintext) and opens it with the same keyring
    const ingest = await internalIngest('dump-a');
    expect(JSON.stringify(ingest)).not.toContain(secret.slice(6, 30));
    expect(openAll(new SecretBox(k1), 'dump-a', ingest.ingestSecrets)).toEqual([secret]);
    // an envelope is bound to its authority
    expect(() => new SecretBox(k1).open(sealed, ingestSecretContext('other'))).toThrow();
  });

  it('serves the sealed ingest secrets to export-worker only, the key directory to intake only (ADR 0014)', async () => {
    await register('callers', whsec()).expect(201);
    const ingest = '/internal/authorities/callers/ingest';
    const kids = '/internal/authorities/callers/active-kids';
    expect((await c.as(service('export-worker')).get(ingest)).status).toBe(200);
    expect((await c.as(service('intake')).get(kids)).body).toEqual({ authorityId: 'callers', activeKeyIds: [] });
    // a caller routing-engine accepts, on the other caller's route: as if it did not exist
    expect((await c.as(service('intake')).get(ingest)).status).toBe(404);
    expect((await c.as(service('export-worker')).get(kids)).status).toBe(404);
    // communication is no caller of routing-engine at all
    expect((await c.as(service('communication')).get(ingest)).status).toBe(401);
  });

  it('rotates: the new secret is current, the previous stays active until it expires, never more than two', async () => {
    const [s1, s2, s3] = [whsec(), whsec(), whsec()];
    await register('rot', s1).expect(201);
    const box = new SecretBox(k1);
    const inAnHour = new Date(Date.now() + 3600_000).toISOString();

    const rotated = await c
      .as(admin('rot'))
      .post('/api/v1/authorities/rot/ingest-secret')
      .send({ ingestSecret: s2, previousSecretExpiresAt: inAnHour });
    expect(rotated.status).toBe(200);
    expect(rotated.body.ingestSecrets).toHaveLength(2);
    expect(rotated.body.ingestSecrets[0].expiresAt).toBeNull();
    expect(Date.parse(rotated.body.ingestSecrets[1].expiresAt)).toBe(Date.parse(inAnHour));
    expect(JSON.stringify(rotated.body)).not.toContain('whsec_');
    expect(openAll(box, 'rot', (await internalIngest('rot')).ingestSecrets)).toEqual([s2, s1]);

    const view = await c.as(admin('rot')).get('/api/v1/authorities/rot');
    expect(view.body.ingestSecrets).toEqual(rotated.body.ingestSecrets);
    expect(JSON.stringify(view.body)).not.toContain('whsec_');

    // a second rotation drops the oldest: still at most two
    await c.as(admin('rot')).post('/api/v1/authorities/rot/ingest-secret').send({ ingestSecret: s3 }).expect(200);
    expect(openAll(box, 'rot', (await internalIngest('rot')).ingestSecrets)).toEqual([s3, s2]);
    expect(await sealedRows('rot')).toHaveLength(2);

    // once the previous one expires, only the current one is handed out
    await sql.query(
      `UPDATE routing.ingest_secrets SET expires_at = now() - interval '1 second' WHERE authority_id = 'rot' AND expires_at IS NOT NULL`,
    );
    expect(openAll(box, 'rot', (await internalIngest('rot')).ingestSecrets)).toEqual([s3]);

    // PATCH replaces every secret at once (a leaked secret must stop working now)
    const s4 = whsec();
    await c.as(admin('rot')).patch('/api/v1/authorities/rot').send({ ingestSecret: s4 }).expect(200);
    expect(openAll(box, 'rot', (await internalIngest('rot')).ingestSecrets)).toEqual([s4]);
  });

  let badCount = 0;
  it.each([
    ['an expiry in the past', { previousSecretExpiresAt: new Date(Date.now() - 1000).toISOString() }, 'previousSecretExpiresAt'],
    [
      'an expiry beyond 30 days',
      { previousSecretExpiresAt: new Date(Date.now() + 31 * 86_400_000).toISOString() },
      'previousSecretExpiresAt',
    ],
    ['a malformed secret', { ingestSecret: 'whsec_short' }, 'ingestSecret'],
    ['an unknown field', { ingestSecrets: [] }, 'ingestSecrets'],
  ])('refuses a rotation with %s (400, nothing changed)', async (_n, over, field) => {
    const id = `bad-${++badCount}`;
    await register(id, whsec()).expect(201);
    const before = await sealedRows(id);
    const res = await c
      .as(admin(id))
      .post(`/api/v1/authorities/${id}/ingest-secret`)
      .send({ ingestSecret: whsec(), ...over });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await sealedRows(id)).toEqual(before);
  });

  it('lets only the authority’s admins rotate (404 for others)', async () => {
    await register('own', whsec()).expect(201);
    for (const who of [official('own'), admin('other')])
      expect((await c.as(who).post('/api/v1/authorities/own/ingest-secret').send({ ingestSecret: whsec() })).status).toBe(404);
    expect(await sealedRows('own')).toHaveLength(1);
  });

  it('seals plaintext rows left from before encryption at start, and never hands them out before', async () => {
    const legacy = whsec();
    await register('legacy', whsec()).expect(201);
    // what the migration leaves behind: the old plaintext value moved into the new table
    await sql.query(`DELETE FROM routing.ingest_secrets WHERE authority_id = 'legacy'`);
    await sql.query(`INSERT INTO routing.ingest_secrets (id, authority_id, sealed_secret) VALUES (gen_random_uuid(), 'legacy', $1)`, [
      legacy,
    ]);
    expect((await internalIngest('legacy')).ingestSecrets).toEqual([]);

    const restarted = await start(); // a new replica (or the next start) seals before serving
    const ingest = (await restarted.as(service('export-worker')).get('/internal/authorities/legacy/ingest')).body as {
      ingestSecrets: string[];
    };
    expect(openAll(new SecretBox(k1), 'legacy', ingest.ingestSecrets)).toEqual([legacy]);
    const dump = await pgDump();
    for (const form of readableForms(legacy)) expect(dump).not.toContain(form);
  });

  it('re-seals under a new first key at start (key rotation), after which the old key can go', async () => {
    const secret = whsec();
    await register('keyrot', secret).expect(201);
    const k2 = `k2:${aesKey()}`;
    await start({ SECRETS_ENCRYPTION_KEYS: `${k2},${k1}` });
    const rows = (await sql.query<{ sealed_secret: string }>('SELECT sealed_secret FROM routing.ingest_secrets')).rows;
    expect(rows.length).toBeGreaterThan(1);
    for (const r of rows) expect(r.sealed_secret).toMatch(/^v1\.k2\./);
    const onlyNewKey = new SecretBox(k2);
    expect(openAll(onlyNewKey, 'keyrot', await sealedRows('keyrot'))).toEqual([secret]);
  });

  describe('ingest URL policy at registration (guard on by default)', () => {
    it.each([
      ['plain http', 'http://eakte.example/in'],
      ['credentials in the URL', 'https://user:pw@eakte.example/in'],
      ['a loopback address', 'https://127.0.0.1/in'],
      ['a private address', 'https://10.0.0.1/in'],
      ['the metadata address', 'https://169.254.169.254/latest/meta-data'],
      ['IPv6 loopback', 'https://[::1]/in'],
      ['IPv4-mapped IPv6 loopback', 'https://[::ffff:127.0.0.1]/in'],
      ['localhost', 'https://localhost/in'],
    ])('refuses %s with 400 on create and patch', async (_n, ingestUrl) => {
      const res = await register('url-test', whsec(), ingestUrl);
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('ingestUrl');
      expect(JSON.stringify(res.body)).not.toContain(ingestUrl);
      await register('url-ok', whsec()).expect((r) => expect([201, 409]).toContain(r.status));
      expect((await c.as(admin('url-ok')).patch('/api/v1/authorities/url-ok').send({ ingestUrl })).status).toBe(400);
    });

    it('accepts local http receivers only with EXPORT_ALLOW_PRIVATE_TARGETS=true, which production refuses', async () => {
      const dev = await start({ EXPORT_ALLOW_PRIVATE_TARGETS: 'true' });
      const res = await dev
        .as(platformAdmin())
        .post('/api/v1/authorities')
        .send({ id: 'dev-local', name: 'x', ingestUrl: 'http://127.0.0.1:8080/in', ingestSecret: whsec(), retentionPeriod: 'P1D' });
      expect(res.status).toBe(201);
      expect(() => RoutingEngineModule.register(config({ EXPORT_ALLOW_PRIVATE_TARGETS: 'true', NODE_ENV: 'production' }))).toThrow(
        ConfigError,
      );
      expect(() => config({ SECRETS_ENCRYPTION_KEYS: 'k1:tooshort' })).toThrow();
    });
  });
});
