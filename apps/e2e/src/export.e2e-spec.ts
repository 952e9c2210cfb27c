import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { IncomingMessage, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import yauzl from 'yauzl';
import { devIdentityEnv } from '@dvd/platform';
import { ResponseRecorder, TestEncryptionKey, documentUpload, encryptCompact, makeEncryptionKey, pollUntil } from '@dvd/testing';
import { ROOT, RunningPlatform, expectResponsesMatchOpenApi, startPlatform, gatewayClient } from './platform-process';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

type Behaviour = 'ok' | 'unavailable' | 'bad-request' | 'hang';
interface Delivery {
  headers: IncomingMessage['headers'];
  body: string;
}

/** The authority's e-file system: a real HTTP receiver whose answers a test scripts. */
async function startReceiver() {
  const script: Behaviour[] = [];
  const deliveries: Delivery[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const behaviour = script.shift() ?? 'ok';
      if (behaviour === 'hang') return void hanging.push(res);
      if (behaviour === 'unavailable') return void res.writeHead(503).end();
      if (behaviour === 'bad-request') return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"schema"}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ eAkteId: `EA-${deliveries.length}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`,
    script,
    deliveries,
    close: () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}

function unzip(zip: Buffer): Promise<Record<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err || !file) return reject(err);
      const out: Record<string, Buffer> = {};
      file.on('entry', (entry: yauzl.Entry) => {
        file.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out[entry.fileName] = Buffer.concat(chunks);
            file.readEntry();
          });
        });
      });
      file.on('end', () => resolve(out));
      file.readEntry();
    });
  });
}

describe('exports to the authority’s e-file system (Standard Webhooks), through the gateway', () => {
  let p: RunningPlatform;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let key: TestEncryptionKey;
  let workers: ChildProcess[] = [];
  let tokens: Record<'citizen' | 'official' | 'admin' | 'otherOfficial', string>;
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  // routing-engine seals ingest secrets with this keyring and the separately started worker opens them
  const secretsKeyring = `e2e:${randomBytes(32).toString('base64')}`;
  let documentId: string;
  let jwe: string;
  let threadId: string;

  // every response the tests get is checked against docs/openapi.json at the end
  const recorder = new ResponseRecorder();
  const call = (...args: Parameters<ReturnType<typeof gatewayClient>>) => gatewayClient(p.gateway, recorder)(...args);

  async function startWorker(): Promise<ChildProcess> {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'apps', 'export-worker', 'src', 'main.js')], {
      env: {
        ...p.env,
        ...devIdentityEnv(p.identityKeys, 'export-worker'),
        SECRETS_ENCRYPTION_KEYS: secretsKeyring,
        EXPORT_ALLOW_PRIVATE_TARGETS: 'true',
        S3_ENDPOINT: `http://127.0.0.1:${p.ports.s3}`,
        INTAKE_URL: `http://127.0.0.1:${p.ports.intake}`,
        COMMUNICATION_URL: `http://127.0.0.1:${p.ports.communication}`,
        ROUTING_ENGINE_URL: `http://127.0.0.1:${p.ports['routing-engine']}`,
      },
      stdio: 'ignore',
    });
    workers.push(child);
    await pollUntil(async () => (await fetch(`http://127.0.0.1:${p.ports['export-worker']}/health/ready`).catch(() => null))?.ok, {
      what: 'export worker ready',
      timeoutMs: 30_000,
    });
    return child;
  }

  async function exportAndWait(expected: 'COMPLETED' | 'FAILED', token = tokens.official) {
    const requested = await call(token, 'POST', '/exports', { documentId });
    expect(requested.status).toBe(202);
    expect(requested.body.status).toBe('PENDING');
    expect(requested.headers.get('location')).toBe(`/api/v1/exports/${requested.body.jobId as string}`);
    return pollUntil(
      async () => {
        const job = await call(token, 'GET', `/exports/${requested.body.jobId as string}`);
        return job.body.status === expected ? job.body : null;
      },
      { what: `export ${expected}`, timeoutMs: 40_000, intervalMs: 200 },
    );
  }

  beforeAll(async () => {
    receiver = await startReceiver();
    p = await startPlatform({
      DVD_SKIP_APPS: 'export-worker',
      SECRETS_ENCRYPTION_KEYS: secretsKeyring,
      EXPORT_MAX_ATTEMPTS: '4',
      EXPORT_RETRY_BASE_MS: '200',
      EXPORT_DELIVERY_TIMEOUT_MS: '1500',
      EXPORT_LEASE_MS: '4000',
      EXPORT_POLL_MS: '200',
      // these tests export the same document again and again; dedupe has its own spec (export-resilience)
      EXPORT_REPEAT_AFTER_MS: '0',
    });
    await startWorker();
    tokens = {
      citizen: await p.token({ role: 'citizen', sub: 'erika' }),
      official: await p.token({ role: 'official', authority: 'amt-a' }),
      admin: await p.token({ role: 'admin', authority: 'amt-a' }),
      otherOfficial: await p.token({ role: 'official', authority: 'amt-b' }),
    };
    const platformAdmin = await p.token({ role: 'platform-admin', authority: 'platform' });
    expect(
      (
        await call(platformAdmin, 'POST', '/authorities', {
          id: 'amt-a',
          name: 'Amt A',
          ingestUrl: receiver.url,
          ingestSecret: secret,
          retentionPeriod: 'P30D',
        })
      ).status,
    ).toBe(201);
    await call(tokens.admin, 'POST', '/authorities/amt-a/units', { id: 'post', name: 'Post' });
    key = await makeEncryptionKey('amt-a-1');
    await call(tokens.admin, 'POST', '/authorities/amt-a/keys', key.publicJwk);
    jwe = await encryptCompact(key, 2 * 1024 * 1024);
    const { body, contentType } = documentUpload({ referenceNumber: 'A-2026-77', authorityId: 'amt-a', documentType: 'ANTRAG' }, jwe);
    const created = await pollUntil(async () => {
      const r = await call(tokens.citizen, 'POST', '/documents', body, { 'content-type': contentType });
      return r.status === 201 ? r : null;
    });
    documentId = created.body.id as string;
    const thread = await call(tokens.citizen, 'POST', `/documents/${documentId}/threads`, { type: 'CHAT' });
    threadId = thread.body.id as string;
    await call(tokens.citizen, 'POST', `/threads/${threadId}/messages`, { contentBlob: await encryptCompact(key, 100) });
    await call(tokens.official, 'POST', `/threads/${threadId}/claim`);
    await call(tokens.official, 'POST', `/threads/${threadId}/messages`, { contentBlob: await encryptCompact(key, 120) });
  }, 180_000);

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    receiver?.close();
    await p?.stop();
  });

  it('delivers a signed package a Standard Webhooks library verifies, with every hash right and the payload byte for byte', async () => {
    receiver.deliveries.length = 0;
    const job = await exportAndWait('COMPLETED');
    expect(job).toMatchObject({ attempts: 1, lastError: null, receipt: { eAkteId: 'EA-1' } });
    const delivery = receiver.deliveries[0];
    expect(delivery.headers['idempotency-key']).toBe(job.jobId);
    expect(delivery.headers['webhook-id']).toBe(job.jobId);
    expect(delivery.headers['x-dvd-document-id']).toBe(documentId);
    const message = new Webhook(secret).verify(delivery.body, {
      'webhook-id': String(delivery.headers['webhook-id']),
      'webhook-timestamp': String(delivery.headers['webhook-timestamp']),
      'webhook-signature': String(delivery.headers['webhook-signature']),
    }) as {
      type: string;
      data: {
        jobId: string;
        documentId: string;
        authorityId: string;
        package: { contentType: string; size: number; sha256: string; base64: string };
      };
    };
    expect(message.type).toBe('export.package');
    expect(message.data).toMatchObject({ jobId: job.jobId, documentId, authorityId: 'amt-a' });
    const zip = Buffer.from(message.data.package.base64, 'base64');
    expect(zip.length).toBe(message.data.package.size);
    expect(sha256(zip)).toBe(message.data.package.sha256);
    const files = await unzip(zip);
    expect(Object.keys(files).sort()).toEqual(['manifest.json', 'messages.json', 'payload.jwe']);
    expect(files['payload.jwe'].toString()).toBe(jwe);
    const manifest = JSON.parse(files['manifest.json'].toString()) as {
      document: Record<string, unknown>;
      files: Record<string, { sha256: string; size: number }>;
      threads: Array<{ messages: Array<{ sha256: string }> }>;
    };
    for (const [name, meta] of Object.entries(manifest.files)) {
      expect(sha256(files[name])).toBe(meta.sha256);
      expect(files[name].length).toBe(meta.size);
    }
    expect(manifest.document).toMatchObject({ id: documentId, referenceNumber: 'A-2026-77', unitId: 'post' });
    const messages = JSON.parse(files['messages.json'].toString()) as {
      threads: Array<{ id: string; messages: Array<{ senderRole: string; createdAt: string; contentBlob: string }> }>;
    };
    expect(messages.threads.map((t) => t.id)).toEqual([threadId]);
    expect(messages.threads[0].messages.map((m) => m.senderRole)).toEqual(['citizen', 'official']);
    expect(manifest.threads[0].messages.map((m) => m.sha256)).toEqual(messages.threads[0].messages.map((m) => sha256(m.contentBlob)));
    await pollUntil(async () => (await call(tokens.citizen, 'GET', `/documents/${documentId}`)).body.status === 'EXPORTED', {
      what: 'document EXPORTED',
    });
  });

  it('rotates the ingest secret through the gateway without a failed delivery: both secrets sign during the rotation', async () => {
    const next = `whsec_${randomBytes(32).toString('base64')}`;
    const rotated = await call(tokens.admin, 'POST', '/authorities/amt-a/ingest-secret', { ingestSecret: next });
    expect(rotated.status).toBe(200);
    expect(rotated.body.ingestSecrets).toHaveLength(2);
    expect(JSON.stringify(rotated.body)).not.toContain('whsec_');
    receiver.deliveries.length = 0;
    await exportAndWait('COMPLETED');
    const d = receiver.deliveries[0];
    const headers = {
      'webhook-id': String(d.headers['webhook-id']),
      'webhook-timestamp': String(d.headers['webhook-timestamp']),
      'webhook-signature': String(d.headers['webhook-signature']),
    };
    expect(new Webhook(secret).verify(d.body, headers)).toBeTruthy(); // a receiver still on the old secret
    expect(new Webhook(next).verify(d.body, headers)).toBeTruthy(); // and one already on the new one
    // back to the original secret for the tests below (PATCH replaces every secret at once)
    expect((await call(tokens.admin, 'PATCH', '/authorities/amt-a', { ingestSecret: secret })).status).toBe(200);
  });

  it('retries 503 twice, then completes with 3 attempts under the same webhook-id', async () => {
    receiver.deliveries.length = 0;
    receiver.script.push('unavailable', 'unavailable', 'ok');
    const job = await exportAndWait('COMPLETED');
    expect(job.attempts).toBe(3);
    expect(new Set(receiver.deliveries.map((d) => d.headers['webhook-id']))).toEqual(new Set([job.jobId]));
  });

  it('fails at once on 400', async () => {
    receiver.deliveries.length = 0;
    receiver.script.push('bad-request');
    const job = await exportAndWait('FAILED');
    expect(job).toMatchObject({ attempts: 1, lastError: 'http-4xx' });
    expect(JSON.stringify(job)).not.toContain('schema'); // the receiver's answer is never shown
    expect(receiver.deliveries).toHaveLength(1);
  });

  it('retries a receiver that hangs past the timeout', async () => {
    receiver.script.push('hang', 'ok');
    const job = await exportAndWait('COMPLETED');
    expect(job.attempts).toBe(2);
  });

  it('completes a job whose worker was killed mid-delivery, after a restart', async () => {
    receiver.deliveries.length = 0;
    receiver.script.push('hang', 'ok');
    const requested = await call(tokens.official, 'POST', '/exports', { documentId });
    await pollUntil(async () => receiver.deliveries.length === 1, { what: 'first delivery under way' });
    expect((await call(tokens.official, 'GET', `/exports/${requested.body.jobId as string}`)).body.status).toBe('RUNNING');
    for (const w of workers) w.kill('SIGKILL'); // dies holding the lease, mid-delivery
    workers = [];
    await startWorker();
    const job = await pollUntil(
      async () => {
        const r = await call(tokens.official, 'GET', `/exports/${requested.body.jobId as string}`);
        return r.body.status === 'COMPLETED' ? r.body : null;
      },
      { what: 'job completed after restart', timeoutMs: 30_000 },
    );
    expect(job.attempts).toBe(2);
  });

  it('answers 404 to another authority’s official and to citizens', async () => {
    const requested = await call(tokens.official, 'POST', '/exports', { documentId });
    expect((await call(tokens.otherOfficial, 'GET', `/exports/${requested.body.jobId as string}`)).status).toBe(404);
    expect((await call(tokens.otherOfficial, 'POST', '/exports', { documentId })).status).toBe(404);
    expect((await call(tokens.citizen, 'POST', '/exports', { documentId })).status).toBe(404);
    expect((await call(tokens.official, 'POST', '/exports', { documentId: 'nope' })).status).toBe(400);
  });

  it('every response above, errors included, matches the generated OpenAPI document', () => {
    expect(expectResponsesMatchOpenApi(recorder, 12)).toEqual(
      expect.arrayContaining([
        'POST /exports (createExport)',
        'GET /exports/{jobId} (getExport)',
        'POST /authorities/{id}/ingest-secret (rotateIngestSecret)',
      ]),
    );
  });
});
