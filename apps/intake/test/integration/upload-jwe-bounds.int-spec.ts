import { randomBytes } from 'node:crypto';
import { HeapPeak, citizen, documentUpload, encryptJson, makeEncryptionKey, signedHeaders } from '@dvd/testing';
import { Intake, startIntake } from './intake-harness';

const MiB = 1024 * 1024;
const SIX_MB = 6 * 1000 * 1000;

/** JSON-serialised containers built to cost memory: refused early, intake's heap stays flat. */
describe('JWE JSON containers are judged in bounded memory (real Postgres, RabbitMQ, local S3)', () => {
  let intake: Intake;

  beforeAll(async () => {
    intake = await startIntake({ MAX_UPLOAD_BYTES: String(8 * MiB) });
    await intake.registerAuthority('a1', ['a1-k1']);
  }, 60_000);

  afterAll(() => intake?.close());

  async function upload(payload: Buffer | string) {
    const { body, contentType } = documentUpload(
      { referenceNumber: `BAU-${randomBytes(4).toString('hex')}`, authorityId: 'a1', documentType: 'WIDERSPRUCH' },
      payload,
    );
    const res = await fetch(`${intake.base}/api/v1/documents`, {
      method: 'POST',
      headers: { ...signedHeaders(citizen('mallory'), 'POST', '/api/v1/documents'), 'content-type': contentType },
      body,
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
  }

  it.each([
    ['{"x":[[[[…]]]]}', () => Buffer.from(`{"x":${'['.repeat(SIX_MB / 2)}${']'.repeat(SIX_MB / 2)}}`), 'malformed-jwe'],
    ['{"recipients":[{},{},…]}', () => Buffer.from(`{"recipients":[${'{},'.repeat(SIX_MB / 3)}{}]}`), 'header-too-large'],
  ])('refuses the 6 MB container %s with 422 problem+json, heap growth under 16 MiB, nothing kept', async (_name, make, rule) => {
    const bomb = make();
    const before = await intake.counts();
    const objects = (await intake.objectKeys()).length;
    const peak = new HeapPeak();
    const res = await upload(bomb);
    const grown = peak.stop();
    expect(res.status).toBe(422);
    expect(res.type).toMatch(/application\/problem\+json/);
    expect(res.body.type).toContain(rule);
    expect(grown).toBeLessThan(16 * MiB);
    expect(await intake.counts()).toEqual(before);
    expect((await intake.objectKeys()).length).toBe(objects);
  });

  it('still accepts a real JSON-serialised container after them', async () => {
    const key = await makeEncryptionKey('a1-k1');
    const res = await upload(await encryptJson([key], randomBytes(50_000)));
    expect(res.status).toBe(201);
    expect(res.body.payload.size).toBeGreaterThan(50_000);
  });
});
