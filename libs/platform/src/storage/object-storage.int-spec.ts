import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { LOCAL_S3_KEEP_ALIVE_MS, LocalS3, VersionedS3, pollUntil, startLocalS3, startVersionedS3, uniqueName } from '@dvd/testing';
import { IDLE_STORE_SOCKET_MS, ObjectStorage, ObjectStorageOptions, payloadTravelsSafely, storageOptionsFrom } from './object-storage';

/** 50 MiB of pseudo-random bytes as a stream, never held whole in memory. */
function randomStream(totalBytes: number, hash: ReturnType<typeof createHash>): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= totalBytes) return this.push(null);
      const chunk = randomBytes(Math.min(1024 * 1024, totalBytes - sent));
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

/** `chunks` random chunks of `chunkSize` bytes, then an error (a client that went away). */
function failingAfter(chunks: number, chunkSize: number): Readable {
  let n = 0;
  return new Readable({
    read() {
      n++;
      if (n > chunks) this.destroy(new Error('client went away'));
      else this.push(randomBytes(chunkSize));
    },
  });
}

describe('ObjectStorage against the local S3 server', () => {
  let s3: LocalS3;
  let dir: string;
  let storage: ObjectStorage;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dvd-s3-'));
    s3 = await startLocalS3({ directory: dir });
    storage = new ObjectStorage({
      endpoint: s3.endpoint,
      bucket: uniqueName('test').replace(/_/g, '-'),
      region: 'eu-central-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    });
    await storage.ensureBucket();
  });

  afterAll(async () => {
    storage.destroy();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('without S3 keys it signs with the AWS default credential chain (here: its AWS_* environment source)', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    const restore = (name: 'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY', v: string | undefined) =>
      v === undefined ? delete process.env[name] : (process.env[name] = v);
    const chained = (id: string) => {
      process.env.AWS_ACCESS_KEY_ID = id;
      process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
      return new ObjectStorage(storageOptionsFrom({ S3_ENDPOINT: s3.endpoint, S3_BUCKET: storage.bucket, S3_REGION: 'eu-central-1' }));
    };
    try {
      // the chain's key is the one s3rver accepts: the object goes up and comes back
      const good = chained('S3RVER');
      await good.upload('chain/object', Readable.from([Buffer.from('signed by the chain')]));
      const body = await good.download('chain/object');
      expect(Buffer.concat(await body.body.toArray()).toString()).toBe('signed by the chain');
      good.destroy();
      // and a key the store does not know is refused: the chain, not some default, signs
      const bad = chained('NOT-A-KNOWN-KEY');
      await expect(bad.exists('chain/object')).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
      bad.destroy();
    } finally {
      restore('AWS_ACCESS_KEY_ID', saved.id);
      restore('AWS_SECRET_ACCESS_KEY', saved.secret);
    }
  });

  it('streams 50 MiB up and down with an equal sha256 (no aws-chunked framing stored), its parts not hashed into the signature', async () => {
    const size = 50 * 1024 * 1024;
    const upHash = createHash('sha256');
    // what the signed requests carry as their payload hash, per command (read after signing)
    const payloadHashes = new Map<string, Set<string>>();
    storage.client.middlewareStack.add(
      (next, context) => async (args) => {
        const h = (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'];
        const name = context.commandName ?? '?';
        payloadHashes.set(name, (payloadHashes.get(name) ?? new Set()).add(h));
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'testRecordPayloadHash' },
    );
    try {
      await storage.upload('big/object', randomStream(size, upHash));
    } finally {
      storage.client.middlewareStack.remove('testRecordPayloadHash');
    }
    expect([...(payloadHashes.get('UploadPartCommand') ?? [])]).toEqual(['UNSIGNED-PAYLOAD']);
    const object = await storage.download('big/object');
    expect(object.contentLength).toBe(size);
    const downHash = createHash('sha256');
    let bytes = 0;
    await pipeline(object.body, async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        bytes += chunk.length;
        downHash.update(chunk);
      }
    });
    expect(bytes).toBe(size);
    expect(downHash.digest('hex')).toBe(upHash.digest('hex'));
  });

  it('sends bodies unsigned only over TLS, to AWS itself, or on this machine', () => {
    expect(payloadTravelsSafely(undefined)).toBe(true);
    expect(payloadTravelsSafely('https://s3.example.test')).toBe(true);
    expect(payloadTravelsSafely('http://127.0.0.1:4568')).toBe(true);
    expect(payloadTravelsSafely('http://localhost:4568')).toBe(true);
    expect(payloadTravelsSafely('http://minio.internal:9000')).toBe(false);
  });

  it('stores a streamed PutObject byte for byte (the client must not send aws-chunked bodies)', async () => {
    const size = 5 * 1024 * 1024;
    const upHash = createHash('sha256');
    await storage.client.send(
      new PutObjectCommand({ Bucket: storage.bucket, Key: 'put/stream', Body: randomStream(size, upHash), ContentLength: size }),
    );
    const object = await storage.download('put/stream');
    const chunks: Buffer[] = [];
    for await (const c of object.body) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    expect(body.length).toBe(size);
    expect(createHash('sha256').update(body).digest('hex')).toBe(upHash.digest('hex'));
  });

  it('leaves no object when the source stream fails mid-way', async () => {
    await expect(storage.upload('broken/object', failingAfter(3, 4 * 1024 * 1024))).rejects.toThrow();
    expect(await storage.exists('broken/object')).toBe(false);
  });

  it('with a declared length sends 20 MiB in one streamed PutObject: no multipart upload, the ETag is the md5 of the bytes', async () => {
    const size = 20 * 1024 * 1024;
    const upHash = createHash('sha256');
    const md5 = createHash('md5');
    const source = randomStream(size, upHash);
    source.on('data', (c: Buffer) => md5.update(c));
    const commands: string[] = [];
    storage.client.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize', name: 'testRecordCommands' },
    );
    try {
      await storage.upload('declared/object', source, { contentLength: size, contentType: 'application/jose' });
    } finally {
      storage.client.middlewareStack.remove('testRecordCommands');
    }
    expect(commands).toEqual(['PutObjectCommand']);
    const object = await storage.download('declared/object');
    expect(object.contentLength).toBe(size);
    // a multipart object's ETag is "<md5 of the part md5s>-<parts>"
    expect(object.eTag).toBe(`"${md5.digest('hex')}"`);
    const downHash = createHash('sha256');
    for await (const c of object.body) downHash.update(c as Buffer);
    expect(downHash.digest('hex')).toBe(upHash.digest('hex'));
  });

  it('with a declared length, ends the request and leaves no object when the source fails mid-way', async () => {
    // the store waits for the rest of the declared 10 MiB unless the request is ended: the promise settling is the proof
    await expect(storage.upload('broken/declared', failingAfter(3, 1024 * 1024), { contentLength: 10 * 1024 * 1024 })).rejects.toThrow();
    expect(await storage.exists('broken/declared')).toBe(false);
  });

  it('lets an idle connection go before the store would close it', async () => {
    await storage.exists('keep-alive/probe');
    const idle = Object.values(storage.agents.http.freeSockets).flat();
    expect(idle.length).toBeGreaterThan(0);
    // the local store keeps idle connections 65 s (and says so: `Keep-Alive: timeout=65`)
    expect(IDLE_STORE_SOCKET_MS).toBeLessThan(LOCAL_S3_KEEP_ALIVE_MS - 1_000);
    for (const socket of idle) expect(socket?.timeout).toBe(IDLE_STORE_SOCKET_MS);
  });

  it("lets an idle connection go a second before a store's shorter Keep-Alive hint", async () => {
    // a store that closes idle connections after 5 s (Node's default) and says so
    const short = createServer((_req, res) => res.writeHead(200, { 'content-length': '0' }).end()).listen(0, '127.0.0.1');
    await once(short, 'listening');
    const hinted = new ObjectStorage({
      endpoint: `http://127.0.0.1:${(short.address() as AddressInfo).port}`,
      bucket: 'any',
      region: 'eu-central-1',
      accessKeyId: 'x',
      secretAccessKey: 'x',
    });
    try {
      expect(await hinted.exists('k')).toBe(true);
      // the connection returns to the pool once the answer is read
      const idle = await pollUntil(async () => {
        const free = Object.values(hinted.agents.http.freeSockets).flat();
        return free.length ? free : null;
      });
      for (const socket of idle) expect(socket?.timeout).toBe(4_000);
    } finally {
      hinted.destroy();
      short.closeAllConnections();
      short.close();
    }
  });

  it('deletes idempotently', async () => {
    await storage.upload('small', Readable.from([Buffer.from('x')]));
    expect(await storage.exists('small')).toBe(true);
    await storage.delete('small');
    await storage.delete('small');
    expect(await storage.exists('small')).toBe(false);
  });

  it('deletes exactly the key on a store without versioning, not keys it is a prefix of', async () => {
    await storage.upload('documents/1', Readable.from([Buffer.from('x')]));
    await storage.upload('documents/10', Readable.from([Buffer.from('y')]));
    await storage.delete('documents/1');
    expect(await storage.exists('documents/1')).toBe(false);
    expect(await storage.exists('documents/10')).toBe(true);
  });
});

describe('ObjectStorage on a versioned bucket (moto_server: s3rver has no versioning)', () => {
  let s3: VersionedS3;
  let storage: ObjectStorage;
  let options: () => ObjectStorageOptions;
  const versionsOf = async (key: string) => {
    const out = await storage.client.send(new ListObjectVersionsCommand({ Bucket: storage.bucket, Prefix: key }));
    return [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].filter((v) => v.Key === key).length;
  };
  const put = (key: string, body: string) => storage.client.send(new PutObjectCommand({ Bucket: storage.bucket, Key: key, Body: body }));

  beforeAll(async () => {
    s3 = await startVersionedS3();
    const bucket = uniqueName('versioned').replace(/_/g, '-');
    options = () => ({ endpoint: s3.endpoint, bucket, region: 'eu-central-1', accessKeyId: 'test', secretAccessKey: 'test' });
    storage = new ObjectStorage(options());
    await storage.ensureBucket();
    await storage.client.send(new PutBucketVersioningCommand({ Bucket: storage.bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  }, 60_000);

  afterAll(async () => {
    storage?.destroy();
    await s3?.stop();
  });

  it('removes every version and delete marker of the key, and leaves keys it is a prefix of', async () => {
    await put('documents/1', 'v1');
    await put('documents/1', 'v2');
    await put('documents/1', 'v3');
    await put('documents/10', 'other');
    // a plain delete (what the reaper did before) only hides the data behind a marker
    await storage.client.send(new DeleteObjectCommand({ Bucket: storage.bucket, Key: 'documents/1' }));
    expect(await versionsOf('documents/1')).toBe(4); // 3 versions + 1 delete marker: the data is still there
    await storage.delete('documents/1');
    expect(await versionsOf('documents/1')).toBe(0);
    expect(await storage.exists('documents/10')).toBe(true);
    expect(await versionsOf('documents/10')).toBe(1);
    await storage.delete('documents/1'); // idempotent, and adds no delete marker
    expect(await versionsOf('documents/1')).toBe(0);
  });

  it('pages through more versions than one listing returns', async () => {
    const paged = new ObjectStorage({ ...options(), versionPageSize: 2 });
    for (let i = 0; i < 7; i++) await put('many', String(i));
    await paged.delete('many');
    paged.destroy();
    expect(await versionsOf('many')).toBe(0);
  });

  it('uploads and deletes through the same code path as on s3rver', async () => {
    await storage.upload('documents/streamed', Readable.from([randomBytes(1000)]));
    expect(await storage.exists('documents/streamed')).toBe(true);
    await storage.delete('documents/streamed');
    expect(await versionsOf('documents/streamed')).toBe(0);
  });
});
