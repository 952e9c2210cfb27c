import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { LocalS3, startLocalS3, uniqueName } from '@dvd/testing';
import { directS3Client } from '../direct-s3';
import { uploadDocument } from '../http';
import type { S3Target } from '../types';
import { LAG_PATH } from './event-loop-lag';
import { referenceIntake } from './reference-intake';

/**
 * The reference intake is the anchor for the platform's upload figures (npm run bench): it
 * must really store what it is sent, hash it, and refuse what it cannot store — a reference
 * that dropped bytes would make the platform look slow.
 */
describe('bench reference intake against the local S3 server', () => {
  let s3: LocalS3;
  let dir: string;
  let target: S3Target;
  let intake: ReturnType<typeof referenceIntake>;
  let apiUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dvd-ref-intake-'));
    const bucket = uniqueName('ref').replace(/_/g, '-');
    s3 = await startLocalS3({ directory: dir, buckets: [bucket] });
    target = {
      endpoint: s3.endpoint,
      bucket,
      region: 'eu-central-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    };
    intake = referenceIntake(target);
    intake.server.listen(0, '127.0.0.1');
    await once(intake.server, 'listening');
    apiUrl = `http://127.0.0.1:${(intake.server.address() as AddressInfo).port}/api/v1`;
  });

  afterAll(async () => {
    await intake.close();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores the payload of a multipart upload whole, under the id it answers, with its sha256', async () => {
    const payload = randomBytes(3 * 1024 * 1024 + 17);
    const outcome = await uploadDocument(apiUrl, 'any-authority', { token: 'unused', jwe: payload });
    expect(outcome.status).toBe(201);
    const client = directS3Client(target);
    try {
      const object = await client.send(new GetObjectCommand({ Bucket: target.bucket, Key: `bench-reference/${outcome.id}` }));
      const stored = Buffer.from(await object.Body!.transformToByteArray());
      expect(stored.equals(payload)).toBe(true);
    } finally {
      client.destroy();
    }
  });

  it('answers the hash of the bytes it stored', async () => {
    const payload = randomBytes(200_000);
    const res = await new Promise<{ status: number; body: { sha256?: string } }>((resolve, reject) => {
      const boundary = 'refspec';
      const body = Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${JSON.stringify({ payloadSize: payload.length })}\r\n` +
            `--${boundary}\r\nContent-Disposition: form-data; name="encryptedPayload"; filename="d.jwe"\r\n\r\n`,
        ),
        payload,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      fetch(`${apiUrl}/documents`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body })
        .then(async (r) => resolve({ status: r.status, body: (await r.json()) as { sha256?: string } }))
        .catch(reject);
    });
    expect(res.status).toBe(201);
    expect(res.body.sha256).toBe(createHash('sha256').update(payload).digest('base64url'));
  });

  it('refuses a form without a payload, a payload without a declared size, or of another length than declared', async () => {
    const boundary = 'refspec2';
    const send = (metadata: unknown, payload: Buffer) =>
      fetch(`${apiUrl}/documents`, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: Buffer.concat([
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${JSON.stringify(metadata)}\r\n` +
              `--${boundary}\r\nContent-Disposition: form-data; name="encryptedPayload"; filename="d.jwe"\r\n\r\n`,
          ),
          payload,
          Buffer.from(`\r\n--${boundary}--\r\n`),
        ]),
      }).then((r) => r.status);
    expect(await fetch(`${apiUrl}/documents`, { method: 'POST' }).then((r) => r.status)).toBe(400); // no multipart body
    expect(await send({}, randomBytes(1000))).toBe(400);
    const metadataOnly = await fetch(`${apiUrl}/documents`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{"payloadSize":10}\r\n--${boundary}--\r\n`,
    }).then((r) => r.status);
    expect(metadataOnly).toBe(400);
    expect(await send({ payloadSize: 5000 }, randomBytes(1000))).toBe(400);
    expect(await send({ payloadSize: 500 }, randomBytes(1000))).toBe(400);
  });

  it('answers its longest event-loop delay since the last ask, in ms', async () => {
    const first = (await (await fetch(`${apiUrl.replace('/api/v1', '')}${LAG_PATH}`)).json()) as { maxMs: number };
    expect(typeof first.maxMs).toBe('number');
    // the histogram's first tick after a reset only starts the clock: let it tick, then block
    // this process's loop (the server runs in it) for 120 ms, then let it tick again
    await new Promise((r) => setTimeout(r, 50));
    const until = Date.now() + 120;
    while (Date.now() < until);
    await new Promise((r) => setTimeout(r, 30));
    const second = (await (await fetch(`${apiUrl.replace('/api/v1', '')}${LAG_PATH}`)).json()) as { maxMs: number };
    expect(second.maxMs).toBeGreaterThanOrEqual(100);
  });
});
