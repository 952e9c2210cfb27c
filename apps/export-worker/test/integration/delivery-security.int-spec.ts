import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mountedPublicRoutes, registeredRoutesOf } from '@dvd/testing';
import { mkdtemp, rm } from 'node:fs/promises';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo, Server as NetServer, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { INestApplication } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { request } from 'undici';
import { EMPTY_BODY_DIGEST, IdentityVerifier, ObjectStorage, ReplayGuard, SecretBox, ingestSecretContext } from '@dvd/platform';
import {
  LOCAL_S3_KEYS,
  LocalS3,
  TEST_IDENTITY_KEYS,
  createTestDatabase,
  createTestVhost,
  official,
  pollUntil,
  signedClient,
  startLocalS3,
  testIdentityEnv,
  uniqueName,
} from '@dvd/testing';
import { deliveryAgent } from '../../src/delivery/target-guard';
import { WebhookDelivery } from '../../src/delivery/webhook-delivery';
import { exportWorkerConfigSchema } from '../../src/export-worker.config';
import { createExportWorkerApp } from '../../src/main';

const AUTHORITY = 'amt-x';
const keyring = `k1:${randomBytes(32).toString('base64')}`;
const box = new SecretBox(keyring);
const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;
const seal = (...secrets: string[]) => secrets.map((s) => box.seal(s, ingestSecretContext(AUTHORITY)));

async function listen<T extends Server | NetServer>(server: T, host = '127.0.0.1'): Promise<T & { port: number }> {
  await new Promise<void>((r) => server.listen(0, host, r));
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}

/** A TCP listener that only counts connections: proof that a refused target was never contacted. */
async function connectionCounter(host: string) {
  let connections = 0;
  const server = await listen(
    createNetServer((socket) => {
      connections++;
      socket.destroy();
    }),
    host,
  );
  return { port: server.port, connections: () => connections, close: () => server.close() };
}

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver whose answer a test sets; records what it received. */
async function receiver(answer: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const received: Received[] = [];
  const server = await listen(
    createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        received.push({ headers: req.headers, body });
        answer(req, res, body);
      });
    }),
  );
  return {
    url: `http://127.0.0.1:${server.port}/ingest`,
    received,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const verify = (secret: string, r: Received) =>
  new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });

describe('export delivery security (real Postgres, RabbitMQ, local S3, HTTP receivers on 127.0.0.1)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  let s3: LocalS3;
  let s3Dir: string;
  let neighbours: Server & { port: number };
  const bucket = uniqueName('export').replace(/_/g, '-');
  const documentId = randomUUID();
  /** What the stand-in for routing-engine's internal API hands out for the authority (as routing-engine would: sealed). */
  let ingest: { ingestUrl: string; ingestSecrets: string[] } = { ingestUrl: 'https://eakte.example/in', ingestSecrets: seal(whsec()) };

  beforeAll(async () => {
    [db, vhost, s3Dir] = await Promise.all([createTestDatabase(), createTestVhost(), mkdtemp(join(tmpdir(), 'dvd-export-sec-'))]);
    s3 = await startLocalS3({ directory: s3Dir });
    const storage = new ObjectStorage({
      endpoint: s3.endpoint,
      bucket,
      region: 'eu-central-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    });
    await storage.ensureBucket();
    const payload = `eyJhbGciOiJSU0EtT0FFUC0yNTYifQ.${randomBytes(600).toString('base64url')}`;
    await storage.upload(`documents/${documentId}`, Readable.from([Buffer.from(payload)]));
    // Stand-ins for the neighbours' internal APIs (intake, communication, routing-engine), answering as they do,
    // to export-worker's own signature only, checked as the neighbours check it (ADR 0014).
    const verifier = new IdentityVerifier({ verifyKeys: TEST_IDENTITY_KEYS.verifyKeys, callers: ['export-worker'] }, new ReplayGuard(null));
    neighbours = await listen(
      createServer((req, res) => {
        const v = verifier.verify(req.headers, req.method ?? '', req.url ?? '');
        if (typeof v === 'string' || v.identity.role !== 'service' || v.body !== EMPTY_BODY_DIGEST) return void res.writeHead(401).end();
        const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (req.url === `/internal/documents/${documentId}`)
          return json({
            id: documentId,
            authorityId: AUTHORITY,
            citizenId: 'c-1',
            unitId: 'post',
            referenceNumber: 'X-1',
            documentType: 'ANTRAG',
            serviceKey: null,
            regionKey: null,
            createdAt: new Date().toISOString(),
            retentionDate: new Date(Date.now() + 86_400_000).toISOString(),
            payload: {
              key: `documents/${documentId}`,
              size: payload.length,
              sha256: createHash('sha256').update(payload).digest('hex'),
              format: 'jwe-compact',
            },
          });
        if (req.url?.startsWith(`/internal/documents/${documentId}/threads?`)) return json({ items: [], nextCursor: null });
        if (req.url === `/internal/authorities/${AUTHORITY}/ingest`) return json({ authorityId: AUTHORITY, ...ingest });
        res.writeHead(404).end();
      }),
    );
  }, 60_000);

  afterAll(async () => {
    neighbours?.close();
    await s3?.stop();
    await Promise.all([db?.drop(), vhost?.drop(), s3Dir && rm(s3Dir, { recursive: true, force: true })]);
  });

  async function startWorker(env: Record<string, string>) {
    const local = `http://127.0.0.1:${neighbours.port}`;
    const config = exportWorkerConfigSchema.parse({
      LOG_LEVEL: 'silent',
      ...testIdentityEnv('export-worker'),
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      S3_ENDPOINT: s3.endpoint,
      ...LOCAL_S3_KEYS,
      S3_BUCKET: bucket,
      INTAKE_URL: local,
      COMMUNICATION_URL: local,
      ROUTING_ENGINE_URL: local,
      SECRETS_ENCRYPTION_KEYS: keyring,
      EXPORT_MAX_ATTEMPTS: '2',
      EXPORT_RETRY_BASE_MS: '100',
      EXPORT_POLL_MS: '100',
      EXPORT_DELIVERY_TIMEOUT_MS: '5000',
      // these tests export one document again and again; dedupe has its own spec
      EXPORT_REPEAT_AFTER_MS: '0',
      ...env,
    });
    const app: INestApplication = await createExportWorkerApp(config);
    await app.init();
    const client = signedClient(app.getHttpServer());
    const exportAndWait = async (status: 'COMPLETED' | 'FAILED') => {
      const requested = await client.as(official(AUTHORITY)).post('/api/v1/exports').send({ documentId });
      expect(requested.status).toBe(202);
      const jobId = requested.body.jobId as string;
      return pollUntil(
        async () => {
          const job = await client.as(official(AUTHORITY)).get(`/api/v1/exports/${jobId}`);
          if (job.body.status === 'COMPLETED' || job.body.status === 'FAILED') return job.body as Record<string, unknown>;
          return null;
        },
        { what: `export ${status}`, timeoutMs: 30_000, intervalMs: 100 },
      ).then((job) => {
        expect(job).toMatchObject({ status });
        return job;
      });
    };
    return { app, exportAndWait };
  }

  describe('with the guard on (the default)', () => {
    let worker: Awaited<ReturnType<typeof startWorker>>;
    let v4: Awaited<ReturnType<typeof connectionCounter>>;
    let v6: Awaited<ReturnType<typeof connectionCounter>>;

    beforeAll(async () => {
      [v4, v6] = await Promise.all([connectionCounter('127.0.0.1'), connectionCounter('::1')]);
      worker = await startWorker({});
    }, 60_000);
    afterAll(async () => {
      await worker?.app.close();
      v4?.close();
      v6?.close();
    });

    it.each([
      ['plain http to 127.0.0.1', () => `http://127.0.0.1:${v4.port}/in`],
      ['https to 127.0.0.1', () => `https://127.0.0.1:${v4.port}/in`],
      ['a decimal spelling of 127.0.0.1', () => `https://2130706433:${v4.port}/in`],
      ['https to [::1]', () => `https://[::1]:${v6.port}/in`],
      ['https to [::ffff:127.0.0.1]', () => `https://[::ffff:127.0.0.1]:${v4.port}/in`],
      ['a name resolving to loopback (localhost)', () => `https://localhost:${v4.port}/in`],
      ['a private address', () => `https://10.0.0.1:${v4.port}/in`],
      ['the cloud metadata address', () => `https://169.254.169.254/latest/meta-data/`],
      ['credentials in the URL', () => `https://user:pw@127.0.0.1:${v4.port}/in`],
    ])('refuses %s before any connection: FAILED with target-forbidden, nothing else', async (_n, url) => {
      ingest = { ingestUrl: url(), ingestSecrets: seal(whsec()) };
      const job = await worker.exportAndWait('FAILED');
      expect(job).toMatchObject({ attempts: 1, lastError: 'target-forbidden', receipt: null });
      expect(v4.connections()).toBe(0);
      expect(v6.connections()).toBe(0);
    });

    it('mounts exactly the public routes the contract registry gives export-worker', () => {
      expect(mountedPublicRoutes(worker.app)).toEqual(registeredRoutesOf('export-worker'));
    });

    it('refuses at connect time too (the dispatcher alone, without the URL pre-check): literals and names', async () => {
      const agent = deliveryAgent({ allowPrivateTargets: false, connectTimeoutMs: 2000 });
      for (const url of [
        `https://127.0.0.1:${v4.port}/in`,
        `https://[::1]:${v6.port}/in`,
        `https://[::ffff:7f00:1]:${v4.port}/in`,
        `https://localhost:${v4.port}/in`,
        `http://eakte.example/in`,
      ]) {
        const err = await request(url, { dispatcher: agent, method: 'POST', body: '{}' }).then(
          () => null,
          (e: unknown) => e,
        );
        expect({ url, code: (err as { code?: string } | null)?.code }).toEqual({ url, code: 'ERR_DVD_TARGET_FORBIDDEN' });
      }
      await agent.close();
      expect(v4.connections()).toBe(0);
      expect(v6.connections()).toBe(0);
    });

    it('resolves names through the guarded lookup: a name rebinding to 127.0.0.1 is refused before connecting', async () => {
      const delivery = new WebhookDelivery({
        allowPrivateTargets: false,
        timeoutMs: 5000,
        secretBox: box,
        lookup: (_host, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]),
      });
      const pkg = { path: __filename, size: 10, sha256: 'x' };
      const m = { jobId: randomUUID(), documentId, authorityId: AUTHORITY, pkg, timestamp: new Date() };
      expect(await delivery.deliver(m, { ingestUrl: `https://receiver.test:${v4.port}/in`, ingestSecrets: seal(whsec()) })).toMatchObject({
        kind: 'fail',
        reason: 'target-forbidden',
      });
      expect(v4.connections()).toBe(0);
      await delivery.onApplicationShutdown();
      // control: the counters do see a connection when the guard is off (so a zero above means something)
      const open = new WebhookDelivery({ allowPrivateTargets: true, timeoutMs: 2000, secretBox: box });
      await open.deliver(m, { ingestUrl: `http://127.0.0.1:${v4.port}/in`, ingestSecrets: seal(whsec()) });
      await open.deliver(m, { ingestUrl: `http://[::1]:${v6.port}/in`, ingestSecrets: seal(whsec()) });
      await open.onApplicationShutdown();
      expect(v4.connections()).toBeGreaterThan(0);
      expect(v6.connections()).toBeGreaterThan(0);
    });
  });

  describe('with EXPORT_ALLOW_PRIVATE_TARGETS=true (local receivers)', () => {
    let worker: Awaited<ReturnType<typeof startWorker>>;
    beforeAll(async () => {
      worker = await startWorker({ EXPORT_ALLOW_PRIVATE_TARGETS: 'true' });
    }, 60_000);
    afterAll(() => worker?.app.close());

    it('keeps deliveries verifying through a secret rotation: old secret before and during, new during and after', async () => {
      const [oldSecret, newSecret] = [whsec(), whsec()];
      const r = await receiver((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"eAkteId":"EA-7"}'));
      try {
        ingest = { ingestUrl: r.url, ingestSecrets: seal(oldSecret) };
        expect(await worker.exportAndWait('COMPLETED')).toMatchObject({ lastError: null, receipt: { eAkteId: 'EA-7' } });
        ingest = { ingestUrl: r.url, ingestSecrets: seal(newSecret, oldSecret) }; // during the rotation: current first
        await worker.exportAndWait('COMPLETED');
        ingest = { ingestUrl: r.url, ingestSecrets: seal(newSecret) }; // the previous one expired
        await worker.exportAndWait('COMPLETED');
        const [before, during, after] = r.received;
        expect(verify(oldSecret, before)).toBeTruthy();
        expect(() => verify(newSecret, before)).toThrow();
        expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
        expect(verify(oldSecret, during)).toBeTruthy();
        expect(verify(newSecret, during)).toBeTruthy();
        expect(verify(newSecret, after)).toBeTruthy();
        expect(() => verify(oldSecret, after)).toThrow();
      } finally {
        r.close();
      }
    });

    it('cuts a receiver that answers 2xx with an endless body at the cap: FAILED receipt-too-large, far from 1 GB read', async () => {
      let written = 0;
      let closed!: () => void;
      const socketClosed = new Promise<void>((r) => (closed = r));
      const GB = 1024 ** 3;
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const endless = await listen(
        createServer((req, res) => {
          req.resume();
          req.on('end', () => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.write('{"padding":"');
            const pump = () => {
              while (!res.destroyed && written < GB) {
                written += chunk.length;
                if (!res.write(chunk)) return void res.once('drain', pump);
              }
              res.end('"}');
            };
            res.on('close', closed);
            pump();
          });
        }),
      );
      try {
        ingest = { ingestUrl: `http://127.0.0.1:${endless.port}/in`, ingestSecrets: seal(whsec()) };
        const job = await worker.exportAndWait('FAILED');
        expect(job).toMatchObject({ attempts: 1, lastError: 'receipt-too-large', receipt: null });
        await socketClosed;
        expect(written).toBeLessThan(64 * 1024 * 1024);
      } finally {
        endless.closeAllConnections();
        endless.close();
      }
    });

    it('does not follow redirects (FAILED http-3xx, the redirect target never contacted)', async () => {
      const target = await receiver((_req, res) => res.writeHead(200).end());
      const redirecting = await receiver((_req, res) => res.writeHead(307, { location: target.url }).end());
      try {
        ingest = { ingestUrl: redirecting.url, ingestSecrets: seal(whsec()) };
        expect(await worker.exportAndWait('FAILED')).toMatchObject({ attempts: 1, lastError: 'http-3xx' });
        expect(redirecting.received).toHaveLength(1);
        expect(target.received).toHaveLength(0);
      } finally {
        target.close();
        redirecting.close();
      }
    });

    it.each([
      ['a 4xx with a body', 400, 'application/json', '{"leak":"internal-data-4711"}', 'FAILED', 'http-4xx', null],
      ['a JSON array receipt', 200, 'application/json', '["internal-data-4711"]', 'FAILED', 'invalid-receipt', null],
      [
        'a too deeply nested receipt',
        200,
        'application/json',
        '{"a":{"b":{"c":{"d":{"e":"internal-data-4711"}}}}}',
        'FAILED',
        'invalid-receipt',
        null,
      ],
      [
        'a 4097-byte receipt',
        200,
        'application/json',
        JSON.stringify({ x: 'internal-data-4711'.padEnd(4100, '.') }),
        'FAILED',
        'receipt-too-large',
        null,
      ],
      ['a text answer', 200, 'text/plain', 'internal-data-4711', 'COMPLETED', null, null],
      ['a small object', 201, 'application/json', '{"eAkteId":"EA-9"}', 'COMPLETED', null, { eAkteId: 'EA-9' }],
    ])('handles %s: never shows the raw answer', async (_n, status, contentType, body, jobStatus, lastError, receipt) => {
      const r = await receiver((_req, res) => res.writeHead(status, { 'content-type': contentType }).end(body));
      try {
        ingest = { ingestUrl: r.url, ingestSecrets: seal(whsec()) };
        const job = await worker.exportAndWait(jobStatus as 'COMPLETED' | 'FAILED');
        expect(job).toMatchObject({ lastError, receipt });
        if (!receipt) expect(JSON.stringify(job)).not.toContain('internal-data-4711');
      } finally {
        r.close();
      }
    });

    it('reports a refused connection as a category and retries', async () => {
      const gone = await connectionCounter('127.0.0.1');
      gone.close();
      ingest = { ingestUrl: `http://127.0.0.1:${gone.port}/in`, ingestSecrets: seal(whsec()) };
      expect(await worker.exportAndWait('FAILED')).toMatchObject({ attempts: 2, lastError: 'connection-refused (after 2 attempts)' });
    });

    it('does not deliver with a secret it cannot open (wrong key): secret-unavailable, nothing sent', async () => {
      const r = await receiver((_req, res) => res.writeHead(200).end());
      try {
        const foreign = new SecretBox(`k1:${randomBytes(32).toString('base64')}`).seal(whsec(), ingestSecretContext(AUTHORITY));
        ingest = { ingestUrl: r.url, ingestSecrets: [foreign] };
        expect(await worker.exportAndWait('FAILED')).toMatchObject({ lastError: 'secret-unavailable (after 2 attempts)' });
        expect(r.received).toHaveLength(0);
      } finally {
        r.close();
      }
    });
  });
});
