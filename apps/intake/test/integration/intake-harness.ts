import { mkdtemp, rm } from 'node:fs/promises';
import { Server, ServerResponse, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { EMPTY_BODY_DIGEST, IdentityVerifier, ObjectStorage, ReplayGuard } from '@dvd/platform';
import {
  EventProbe,
  LOCAL_S3_KEYS,
  LocalS3,
  TEST_IDENTITY_KEYS,
  testIdentityEnv,
  createTestDatabase,
  createTestVhost,
  pollUntil,
  testReceiptEnv,
  startLocalS3,
  startVersionedS3,
  uniqueName,
} from '@dvd/testing';
import { IntakeConfig, intakeConfigSchema } from '../../src/intake.config';
import { createIntakeApp } from '../../src/main';

/**
 * routing-engine's key directory as intake sees it (GET /internal/authorities/:id/active-kids,
 * role `service`, signed with intake's own key and checked as routing-engine checks it),
 * answering what the test registered — the counterpart of publishing
 * authority.changed with the probe. The real endpoint, with the real key API in front of it,
 * is exercised end to end in apps/e2e/src/key-consistency.e2e-spec.ts.
 */
async function startKeyDirectory() {
  const kids = new Map<string, string[]>();
  let calls = 0;
  // the verifier routing-engine runs, accepting intake's service key (and the gateway's, for users)
  const verifier = new IdentityVerifier({ verifyKeys: TEST_IDENTITY_KEYS.verifyKeys, callers: ['intake'] }, new ReplayGuard(null));
  const server: Server = createServer((req, res) => {
    calls++;
    const m = /^\/internal\/authorities\/([^/]+)\/active-kids$/.exec(req.url ?? '');
    if (req.method !== 'GET' || !m) return void res.writeHead(404).end();
    const v = verifier.verify(req.headers, req.method, req.url ?? '');
    if (typeof v === 'string' || v.identity.role !== 'service' || v.body !== EMPTY_BODY_DIGEST) return void res.writeHead(401).end();
    void verifier.replay.firstUse(v.kid, v.nonce).then((first) => {
      if (!first) return void res.writeHead(401).end();
      answer(decodeURIComponent(m[1]), res);
    });
  });
  const answer = (id: string, res: ServerResponse) => {
    const active = kids.get(id);
    if (!active) return void res.writeHead(404, { 'content-type': 'application/problem+json' }).end('{}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ authorityId: id, activeKeyIds: active }));
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    kids,
    calls: () => calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** One intake instance on its own database, vhost, S3 server (a versioned one on request) and bucket. */
export async function startIntake(env: Record<string, string> = {}, o: { versionedS3?: boolean } = {}) {
  const [db, vhost, dir, keyDirectory] = await Promise.all([
    createTestDatabase(),
    createTestVhost(),
    mkdtemp(join(tmpdir(), 'dvd-intake-')),
    startKeyDirectory(),
  ]);
  const versioned = o.versionedS3 ? await startVersionedS3() : undefined;
  let s3: LocalS3 = versioned
    ? {
        endpoint: versioned.endpoint,
        port: Number(new URL(versioned.endpoint).port),
        ...{ accessKeyId: LOCAL_S3_KEYS.S3_ACCESS_KEY_ID, secretAccessKey: LOCAL_S3_KEYS.S3_SECRET_ACCESS_KEY },
        stop: () => versioned.stop(),
      }
    : await startLocalS3({ directory: dir });
  const bucket = uniqueName('intake').replace(/_/g, '-');
  const config: IntakeConfig = intakeConfigSchema.parse({
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...testIdentityEnv('intake'),
    ...testReceiptEnv(),
    DATABASE_URL: db.url,
    AMQP_URL: vhost.url,
    S3_ENDPOINT: s3.endpoint,
    ...LOCAL_S3_KEYS,
    S3_BUCKET: bucket,
    ROUTING_ENGINE_URL: keyDirectory.url,
    ...env,
  });
  const storage = new ObjectStorage({
    endpoint: s3.endpoint,
    bucket,
    region: 'eu-central-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
  });
  await storage.ensureBucket();
  if (o.versionedS3) {
    const { PutBucketVersioningCommand } = await import('@aws-sdk/client-s3');
    await storage.client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  }
  const app: INestApplication = await createIntakeApp(config);
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  const probe = await EventProbe.create(vhost.url);
  const sql = new Client({ connectionString: db.url });
  await sql.connect();

  return {
    app,
    base: base.replace('[::1]', '127.0.0.1'),
    config,
    probe,
    storage,
    sql,
    db,
    keyDirectory,
    /** Publishes what routing-engine would, and waits until intake applied it; the key directory answers the same keys. */
    async registerAuthority(authorityId: string, activeKeyIds: string[], retentionPeriod = 'P180D') {
      keyDirectory.kids.set(authorityId, activeKeyIds);
      const envelope = await probe.publish('authority.changed', {
        authorityId,
        name: authorityId,
        retentionPeriod,
        defaultUnitId: null,
        activeKeyIds,
        deleted: false,
      });
      await pollUntil(
        async () => (await sql.query('SELECT 1 FROM intake.processed_events WHERE event_id = $1', [envelope.id])).rowCount === 1,
        { what: 'authority known to intake' },
      );
    },
    async counts() {
      const q = async (t: string) => Number((await sql.query(`SELECT count(*)::int AS n FROM intake.${t}`)).rows[0].n);
      return {
        documents: await q('documents'),
        pending: await q('pending_objects'),
        outbox: await q('outbox'),
        idempotency: await q('idempotency_keys'),
      };
    },
    async objectKeys(): Promise<string[]> {
      const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
      const out = await storage.client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (out.Contents ?? []).map((o) => o.Key!);
    },
    async stopS3() {
      await s3.stop();
    },
    async restartS3() {
      s3 = await startLocalS3({ directory: dir, port: s3.port });
    },
    async close() {
      await probe.close();
      await sql.end();
      await app.close();
      storage.destroy();
      await s3.stop().catch(() => undefined);
      await Promise.all([db.drop(), vhost.drop(), rm(dir, { recursive: true, force: true }), keyDirectory.close()]);
    },
  };
}

export type Intake = Awaited<ReturnType<typeof startIntake>>;
