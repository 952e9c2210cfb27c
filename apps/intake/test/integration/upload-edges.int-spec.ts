import { randomBytes } from 'node:crypto';
import { HeapPeak, citizen, documentUpload, encryptCompact, encryptJson, makeEncryptionKey, signedHeaders } from '@dvd/testing';
import { Intake, startIntake } from './intake-harness';

const MiB = 1024 * 1024;
const SIX_MB = 6 * 1000 * 1000;

/** Edges of the upload path: JWE containers built to cost memory, unsafe text, forged cursors. */
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
      headers: { ...signedHeaders(citizen('mallory'), 'POST', '/api/v1/documents', { body, contentType }), 'content-type': contentType },
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

  it.each([
    ['RIGHT-TO-LEFT OVERRIDE', '\u202e'],
    ['a C1 control', '\u0085'],
    ['ZERO WIDTH SPACE', '\u200b'],
    ['LEFT-TO-RIGHT ISOLATE', '\u2066'],
  ])('400 for an Aktenzeichen with %s, naming the field, echoing nothing, keeping nothing', async (_name, ch) => {
    const key = await makeEncryptionKey('a1-k1');
    const before = await intake.counts();
    const referenceNumber = `BAU-4711${ch}-2026`;
    const { body, contentType } = documentUpload(
      { referenceNumber, authorityId: 'a1', documentType: 'WIDERSPRUCH' },
      await encryptCompact(key, 100),
    );
    const res = await fetch(`${intake.base}/api/v1/documents`, {
      method: 'POST',
      headers: { ...signedHeaders(citizen('mallory'), 'POST', '/api/v1/documents', { body, contentType }), 'content-type': contentType },
      body,
    });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    expect(JSON.parse(text).errors).toEqual([{ field: 'referenceNumber', message: expect.stringContaining('bidirectional') }]);
    expect(text).not.toContain('4711');
    expect(await intake.counts()).toEqual(before);
  });

  it.each([
    Buffer.from(JSON.stringify(['2026-11-26T10:00:00.123456Z', 'not-a-uuid'])).toString('base64url'),
    Buffer.from(JSON.stringify(['1', '0b9d0c4e-3f2c-4b8e-9a51-1f5f0d7c1a22'])).toString('base64url'),
    'garbage!',
  ])('400 problem+json (not 500) for the forged cursor %p on the document list', async (cursor) => {
    const path = `/api/v1/documents?cursor=${encodeURIComponent(cursor)}`;
    const res = await fetch(`${intake.base}${path}`, { headers: signedHeaders(citizen('mallory'), 'GET', path) });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    expect(((await res.json()) as { errors: unknown }).errors).toEqual([{ field: 'cursor', message: expect.any(String) }]);
  });

  it('still accepts a real JSON-serialised container after them', async () => {
    const key = await makeEncryptionKey('a1-k1');
    const res = await upload(await encryptJson([key], randomBytes(50_000)));
    expect(res.status).toBe(201);
    expect(res.body.payload.size).toBeGreaterThan(50_000);
  });
});
