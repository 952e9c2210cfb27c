import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { LocalS3, startLocalS3, uniqueName } from '@dvd/testing';
import { ObjectStorage } from './object-storage';

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

  it('streams 50 MiB up and down with an equal sha256 (no aws-chunked framing stored)', async () => {
    const size = 50 * 1024 * 1024;
    const upHash = createHash('sha256');
    await storage.upload('big/object', randomStream(size, upHash));
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
    let n = 0;
    const failing = new Readable({
      read() {
        n++;
        if (n > 3) this.destroy(new Error('client went away'));
        else this.push(randomBytes(4 * 1024 * 1024));
      },
    });
    await expect(storage.upload('broken/object', failing)).rejects.toThrow();
    expect(await storage.exists('broken/object')).toBe(false);
  });

  it('deletes idempotently', async () => {
    await storage.upload('small', Readable.from([Buffer.from('x')]));
    expect(await storage.exists('small')).toBe(true);
    await storage.delete('small');
    await storage.delete('small');
    expect(await storage.exists('small')).toBe(false);
  });
});
