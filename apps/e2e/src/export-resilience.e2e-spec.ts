import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { parser } from 'stream-json';
import { pick } from 'stream-json/filters/Pick';
import { streamArray } from 'stream-json/streamers/StreamArray';
import yauzl from 'yauzl';
import { devIdentityEnv } from '@dvd/platform';
import { TestEncryptionKey, documentUpload, encryptCompact, makeEncryptionKey, pollUntil } from '@dvd/testing';
import { ROOT, RunningPlatform, gatewayClient, startPlatform } from './platform-process';

const MiB = 1024 * 1024;
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** The authority's receiver: each delivery's body streams to a file (never held in memory). */
async function startReceiver(dir: string) {
  const deliveries: string[] = [];
  const server = createServer((req, res) => {
    const file = join(dir, `delivery-${deliveries.length + 1}.json`);
    deliveries.push(file);
    pipeline(req, createWriteStream(file)).then(
      () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ eAkteId: `EA-${deliveries.length}` })),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`,
    deliveries,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** The entries of a ZIP file, each handed to `use` as a stream, one after another. */
function readZip(zip: Buffer, use: (name: string, stream: Readable) => Promise<void>): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err || !file) return reject(err);
      const names: string[] = [];
      file.on('entry', (entry: yauzl.Entry) => {
        names.push(entry.fileName);
        file.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          use(entry.fileName, stream).then(() => file.readEntry(), reject);
        });
      });
      file.on('end', () => resolve(names));
      file.on('error', reject);
      file.readEntry();
    });
  });
}

async function buffer(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The ZIP inside a delivered Standard Webhooks envelope. */
async function deliveredZip(file: string): Promise<Buffer> {
  const body = JSON.parse(await readFile(file, 'utf8')) as { data: { package: { base64: string; sha256: string; size: number } } };
  const zip = Buffer.from(body.data.package.base64, 'base64');
  expect(zip.length).toBe(body.data.package.size);
  expect(sha256(zip)).toBe(body.data.package.sha256);
  return zip;
}

interface WorkerMessage {
  type: string;
  n?: number;
  gated?: boolean;
  base?: { rss: number; heap: number };
  max?: { rss: number; heap: number };
}

describe('export resilience: broken storage streams, 100,000-message cases, duplicate requests', () => {
  let p: RunningPlatform;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let worker: ChildProcess;
  let db: Client;
  let key: TestEncryptionKey;
  let tokens: Record<'citizen' | 'official' | 'admin', string>;
  let scratch: string;
  let exportTmp: string;
  const messages: WorkerMessage[] = [];
  const secretsKeyring = `e2e:${randomBytes(32).toString('base64')}`;
  const docs: Record<'broken' | 'large' | 'race', { id: string; jwe: string }> = {} as never;

  const call = (...args: Parameters<ReturnType<typeof gatewayClient>>) => gatewayClient(p.gateway)(...args);
  const tell = (m: object) => worker.send(m);
  const heard = (what: (m: WorkerMessage) => boolean, from = 0) =>
    pollUntil(async () => messages.slice(from).find(what), { what: 'a message from the worker', timeoutMs: 30_000, intervalMs: 20 });
  const job = async (id: string) => (await call(tokens.official, 'GET', `/exports/${id}`)).body;
  const waitFor = (id: string, status: string, timeoutMs = 40_000) =>
    pollUntil(async () => ((await job(id)).status === status ? job(id) : null), { what: `export ${status}`, timeoutMs, intervalMs: 200 });
  /** Descriptors the worker process holds open on files under `dir`. */
  const openFilesUnder = async (dir: string) => {
    const fds = await readdir(`/proc/${worker.pid}/fd`);
    const targets = await Promise.all(fds.map((fd) => readlink(`/proc/${worker.pid}/fd/${fd}`).catch(() => '')));
    return targets.filter((t) => t.startsWith(dir));
  };

  async function upload(referenceNumber: string, bytes: number) {
    const jwe = await encryptCompact(key, bytes);
    const { body, contentType } = documentUpload({ referenceNumber, authorityId: 'amt-r', documentType: 'ANTRAG' }, jwe);
    const created = await pollUntil(async () => {
      const r = await call(tokens.citizen, 'POST', '/documents', body, { 'content-type': contentType });
      return r.status === 201 ? r : null;
    });
    return { id: created.body.id as string, jwe };
  }

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'dvd-export-resilience-'));
    exportTmp = await mkdtemp(join(tmpdir(), 'dvd-export-tmp-'));
    receiver = await startReceiver(scratch);
    p = await startPlatform({
      DVD_SKIP_APPS: 'export-worker',
      SECRETS_ENCRYPTION_KEYS: secretsKeyring,
      EXPORT_RETRY_BASE_MS: '100',
      EXPORT_POLL_MS: '200',
    });
    worker = spawn(
      process.execPath,
      [
        '--expose-gc',
        '-r',
        join(__dirname, 'fixtures', 'export-worker-faults.cjs'),
        join(ROOT, 'dist', 'apps', 'export-worker', 'src', 'main.js'),
      ],
      {
        env: {
          ...p.env,
          LOG_LEVEL: 'warn',
          ...devIdentityEnv(p.identityKeys, 'export-worker'),
          SECRETS_ENCRYPTION_KEYS: secretsKeyring,
          EXPORT_ALLOW_PRIVATE_TARGETS: 'true',
          S3_ENDPOINT: `http://127.0.0.1:${p.ports.s3}`,
          INTAKE_URL: `http://127.0.0.1:${p.ports.intake}`,
          COMMUNICATION_URL: `http://127.0.0.1:${p.ports.communication}`,
          ROUTING_ENGINE_URL: `http://127.0.0.1:${p.ports['routing-engine']}`,
          EXPORT_TMP_DIR: exportTmp,
        },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      },
    );
    worker.on('message', (m: WorkerMessage) => messages.push(m));
    await pollUntil(async () => (await fetch(`http://127.0.0.1:${p.ports['export-worker']}/health/ready`).catch(() => null))?.ok, {
      what: 'export worker ready',
      timeoutMs: 30_000,
    });
    db = new Client({ connectionString: p.env.DATABASE_URL });
    await db.connect();
    tokens = {
      citizen: await p.token({ role: 'citizen', sub: 'erika' }),
      official: await p.token({ role: 'official', authority: 'amt-r' }),
      admin: await p.token({ role: 'admin', authority: 'amt-r' }),
    };
    const platformAdmin = await p.token({ role: 'platform-admin', authority: 'platform' });
    const authority = await call(platformAdmin, 'POST', '/authorities', {
      id: 'amt-r',
      name: 'Amt R',
      ingestUrl: receiver.url,
      ingestSecret: `whsec_${randomBytes(32).toString('base64')}`,
      retentionPeriod: 'P30D',
    });
    expect(authority.status).toBe(201);
    key = await makeEncryptionKey('amt-r-1');
    await call(tokens.admin, 'POST', '/authorities/amt-r/keys', key.publicJwk);
    docs.broken = await upload('R-1', MiB);
    docs.large = await upload('R-2', 4096);
    docs.race = await upload('R-3', 4096);
  }, 180_000);

  afterAll(async () => {
    worker?.kill('SIGKILL');
    receiver?.close();
    await db?.end();
    await p?.stop();
    await Promise.all([scratch, exportTmp].map((d) => d && rm(d, { recursive: true, force: true })));
  });

  it('fails an attempt whose storage stream breaks mid-way cleanly, and the retry builds a correct package afresh', async () => {
    const thread = await call(tokens.citizen, 'POST', `/documents/${docs.broken.id}/threads`, { type: 'CHAT' });
    const blob = await encryptCompact(key, 100);
    await call(tokens.citizen, 'POST', `/threads/${thread.body.id as string}/messages`, { contentBlob: blob });
    // attempt 1: the payload stream fails after 256 KiB of 1 MiB; attempt 2: held at its download
    tell({ type: 'plan', steps: [{ gate: true, breakAfter: 256 * 1024 }, { gate: true }] });
    const from = messages.length;
    const requested = await call(tokens.official, 'POST', '/exports', { documentId: docs.broken.id });
    expect(requested.status).toBe(202);
    const jobId = requested.body.jobId as string;

    await heard((m) => m.type === 'download' && m.gated === true, from);
    const [firstDir] = await readdir(exportTmp);
    expect(firstDir).toMatch(new RegExp(`^dvd-export-${jobId}-`));
    tell({ type: 'release' });

    const second = await heard((m) => m.type === 'download' && m.n === 2, from);
    expect(second.gated).toBe(true);
    const during = await job(jobId);
    expect(during).toMatchObject({
      status: 'RUNNING',
      attempts: 2,
      lastErrorCategory: 'payload-unreadable',
      lastError: 'the payload could not be read from storage',
    });
    // the failed attempt's directory and every descriptor into it are gone; the retry has its own
    const now = await readdir(exportTmp);
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(firstDir);
    expect(await openFilesUnder(join(exportTmp, firstDir))).toEqual([]);
    tell({ type: 'release' });

    const done = await waitFor(jobId, 'COMPLETED');
    expect(done).toMatchObject({ attempts: 2, lastError: null, lastErrorCategory: null });
    await pollUntil(async () => (await readdir(exportTmp)).length === 0, { what: 'temporary files removed' });
    expect(await openFilesUnder(exportTmp)).toEqual([]);

    expect(receiver.deliveries).toHaveLength(1);
    const files: Record<string, Buffer> = {};
    await readZip(await deliveredZip(receiver.deliveries[0]), async (name, s) => void (files[name] = await buffer(s)));
    expect(Object.keys(files).sort()).toEqual(['manifest.json', 'messages.json', 'payload.jwe']);
    expect(files['payload.jwe'].toString()).toBe(docs.broken.jwe);
    const manifest = JSON.parse(files['manifest.json'].toString()) as {
      jobId: string;
      files: Record<string, { sha256: string; size: number }>;
      threads: Array<{ id: string; messages: Array<{ sha256: string }> }>;
    };
    expect(manifest.jobId).toBe(jobId);
    for (const [name, meta] of Object.entries(manifest.files))
      expect({ name, ...meta }).toEqual({ name, ...{ sha256: sha256(files[name]), size: files[name].length } });
    const json = JSON.parse(files['messages.json'].toString()) as {
      documentId: string;
      threads: Array<{ id: string; messages: Array<{ contentBlob: string }> }>;
    };
    expect(json.documentId).toBe(docs.broken.id);
    expect(json.threads.map((t) => t.id)).toEqual([thread.body.id]);
    expect(json.threads[0].messages.map((m) => m.contentBlob)).toEqual([blob]);
    expect(manifest.threads[0].messages.map((m) => m.sha256)).toEqual([sha256(blob)]);
  }, 90_000);

  it('answers repeated requests with the earlier job: while it runs, and within the cool-down after it completed', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => call(tokens.official, 'POST', '/exports', { documentId: docs.race.id })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
    const ids = new Set(results.map((r) => r.body.jobId));
    expect(ids.size).toBe(1);
    for (const r of results) expect(r.headers.get('location')).toBe(`/api/v1/exports/${r.body.jobId as string}`);
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM export.export_jobs WHERE document_id = $1`, [
      docs.race.id,
    ]);
    expect(rows[0].n).toBe(1);

    const [jobId] = [...ids] as string[];
    await waitFor(jobId, 'COMPLETED');
    const again = await call(tokens.official, 'POST', '/exports', { documentId: docs.race.id });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ jobId, status: 'COMPLETED' });
    // once the cool-down (EXPORT_REPEAT_AFTER_MS, 1 h) has passed, a new export is queued
    await db.query(`UPDATE export.export_jobs SET completed_at = now() - interval '61 minutes' WHERE id = $1`, [jobId]);
    const later = await call(tokens.official, 'POST', '/exports', { documentId: docs.race.id });
    expect(later.status).toBe(202);
    expect(later.body.jobId).not.toBe(jobId);
    await waitFor(later.body.jobId as string, 'COMPLETED');
  }, 90_000);

  it('exports a case of 100,000 messages with the worker’s memory growing by less than 64 MiB', async () => {
    const count = 100_000;
    const thread = await call(tokens.citizen, 'POST', `/documents/${docs.large.id}/threads`, { type: 'CHAT' });
    const threadId = thread.body.id as string;
    // ~1 KiB per message: about 100 MiB of messages, which the old whole-case code held several times over
    await db.query(
      `INSERT INTO communication.messages (id, thread_id, sender_id, sender_role, content_blob, created_at)
       SELECT gen_random_uuid(), $1, 'erika', 'citizen', 'm' || i || '.' || repeat(md5(i::text), 32),
              timestamptz '2026-01-01' + i * interval '1 millisecond'
         FROM generate_series(1, $2::int) AS i`,
      [threadId, count],
    );
    const deliveredBefore = receiver.deliveries.length;
    tell({ type: 'memory-start' });
    const from = messages.length;
    const requested = await call(tokens.official, 'POST', '/exports', { documentId: docs.large.id });
    expect(requested.status).toBe(202);
    const done = await waitFor(requested.body.jobId as string, 'COMPLETED', 240_000);
    tell({ type: 'memory-stop' });
    const memory = await heard((m) => m.type === 'memory', from);
    const growth = { heap: memory.max!.heap - memory.base!.heap, rss: memory.max!.rss - memory.base!.rss };
    expect(done.attempts).toBe(1);
    // what the worker holds (heap + external buffers, after a forced GC): a worker that held
    // the case (about 100 MiB of message blobs) would pass this bound by far
    expect(growth.heap).toBeLessThan(64 * MiB);
    // RSS also counts pages the allocator keeps after a GC (Node 24's larger young
    // generation alone moves it by tens of MiB), so it gets a coarser bound — still far
    // below what a worker that parsed the whole case (blobs as strings and objects) would take
    expect(growth.rss).toBeLessThan(192 * MiB);

    // the package: every message once, in order, and the manifest's hashes right
    expect(receiver.deliveries).toHaveLength(deliveredBefore + 1);
    let seen = 0;
    let ordered = true;
    let messagesSha = '';
    let manifest: { files: Record<string, { sha256: string }>; threads: Array<{ messages: Array<{ sha256: string }> }> } | undefined;
    await readZip(await deliveredZip(receiver.deliveries[deliveredBefore]), async (name, stream) => {
      if (name === 'manifest.json') manifest = JSON.parse((await buffer(stream)).toString()) as typeof manifest;
      if (name !== 'messages.json') return void (await buffer(stream));
      const hash = createHash('sha256');
      stream.on('data', (c: Buffer) => hash.update(c));
      const items = stream
        .pipe(parser())
        .pipe(pick({ filter: /^threads\.\d+\.messages$/ }))
        .pipe(streamArray());
      for await (const { value } of items as AsyncIterable<{ value: { contentBlob: string } }>) {
        seen++;
        if (!value.contentBlob.startsWith(`m${seen}.`)) ordered = false;
      }
      messagesSha = hash.digest('hex');
    });
    expect({ seen, ordered }).toEqual({ seen: count, ordered: true });
    expect(manifest!.files['messages.json'].sha256).toBe(messagesSha);
    expect(manifest!.threads[0].messages).toHaveLength(count);
    expect(manifest!.threads[0].messages[count - 1].sha256).toBe(
      sha256(`m${count}.${createHash('md5').update(String(count)).digest('hex').repeat(32)}`),
    );
  }, 300_000);
});
