import { createHash, randomBytes } from 'node:crypto';
import { mountedPublicRoutes, registeredRoutesOf } from '@dvd/testing';
import { request as httpRequest } from 'node:http';
import { Client } from 'pg';
import {
  BASE_DATABASE_URL,
  TestEncryptionKey,
  TestUser,
  citizen,
  documentUpload,
  encryptCompact,
  encryptJson,
  makeEncryptionKey,
  multipartBody,
  official,
  pollUntil,
  signedHeaders,
} from '@dvd/testing';
import { PendingObjectSweeper } from '../../src/retention/pending-object.sweeper';
import { Intake, startIntake } from './intake-harness';

const MAX = 2 * 1024 * 1024;
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('document uploads (real Postgres, RabbitMQ, local S3)', () => {
  let intake: Intake;
  let key: TestEncryptionKey;
  let otherKey: TestEncryptionKey;
  const meta = (over: object = {}) => ({
    referenceNumber: `BAU-${randomBytes(4).toString('hex')}`,
    authorityId: 'a1',
    documentType: 'WIDERSPRUCH',
    ...over,
  });

  async function post(user: TestUser, body: Buffer | string, contentType: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${intake.base}/api/v1/documents`, {
      method: 'POST',
      headers: { ...signedHeaders(user, 'POST', '/api/v1/documents', { body, contentType }), 'content-type': contentType, ...headers },
      body,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }
  const upload = (user: TestUser, m: object, payload: string | Buffer, headers: Record<string, string> = {}) => {
    const { body, contentType } = documentUpload(m, payload);
    return post(user, body, contentType, headers);
  };
  const get = async (user: TestUser, path: string, headers: Record<string, string> = {}) =>
    fetch(`${intake.base}${path}`, { headers: { ...signedHeaders(user, 'GET', path), ...headers } });

  async function expectNothingKept(before: Awaited<ReturnType<Intake['counts']>>, objectsBefore: number) {
    const after = await intake.counts();
    expect(after.documents).toBe(before.documents);
    expect(after.outbox).toBe(0);
    expect(after.pending).toBe(0);
    expect((await intake.objectKeys()).length).toBe(objectsBefore);
    expect(intake.probe.of('document.received').length).toBe(receivedEvents);
  }
  let receivedEvents = 0;

  beforeAll(async () => {
    intake = await startIntake({ MAX_UPLOAD_BYTES: String(MAX) });
    [key, otherKey] = await Promise.all([makeEncryptionKey('a1-k1', 'rsa'), makeEncryptionKey('a2-k1')]);
    await intake.registerAuthority('a1', ['a1-k1']);
    await intake.registerAuthority('a2', ['a2-k1'], 'PT5S');
  }, 60_000);

  afterAll(() => intake?.close());

  it('mounts exactly the public routes the contract registry gives intake', () => {
    expect(mountedPublicRoutes(intake.app)).toEqual(registeredRoutesOf('intake'));
  });

  describe('201', () => {
    it('stores a multipart upload, publishes document.received and returns the document', async () => {
      const jwe = await encryptCompact(key, 300_000);
      const m = meta({ serviceKey: '99123456789000', regionKey: '091620000000' });
      const res = await upload(citizen('alice'), m, jwe);
      expect(res.status).toBe(201);
      expect(res.headers.get('location')).toBe(`/api/v1/documents/${res.body.id}`);
      expect(res.body).toMatchObject({
        status: 'RECEIVED',
        referenceNumber: m.referenceNumber,
        authorityId: 'a1',
        documentType: 'WIDERSPRUCH',
        unitId: null,
        payload: { size: jwe.length, sha256: sha256(jwe) },
      });
      const created = Date.parse(res.body.createdAt);
      expect(Date.parse(res.body.retentionDate) - created).toBe(180 * 86_400_000);
      const event = await intake.probe.waitFor('document.received', (d) => d.documentId === res.body.id);
      receivedEvents++;
      expect(event.data).toMatchObject({ citizenId: 'alice', authorityId: 'a1', serviceKey: '99123456789000', regionKey: '091620000000' });
      expect(event.correlationId).toBe(res.body.id);
      expect(await intake.counts()).toMatchObject({ pending: 0 });
    });

    it('returns the payload byte for byte, streamed, with Content-Length and a strong ETag', async () => {
      const jwe = await encryptCompact(key, 1_500_000);
      const res = await upload(citizen('alice'), meta(), jwe);
      receivedEvents++;
      const path = `/api/v1/documents/${res.body.id}/payload`;
      const download = await get(citizen('alice'), path);
      expect(download.status).toBe(200);
      expect(download.headers.get('content-length')).toBe(String(jwe.length));
      expect(download.headers.get('content-type')).toBe('application/jose');
      const bytes = Buffer.from(await download.arrayBuffer());
      expect(sha256(bytes)).toBe(sha256(jwe));
      const etag = download.headers.get('etag')!;
      expect(etag).toBe(`"sha256-${sha256(jwe)}"`);
      expect((await get(citizen('alice'), path, { 'if-none-match': etag })).status).toBe(304);
      // the official of the authority may fetch it too
      expect((await get(official('a1'), path)).status).toBe(200);
    });

    it('stores a payload of the declared payloadSize byte for byte; a replay without the size answers the same document', async () => {
      const jwe = await encryptCompact(key, 1_500_000);
      const m = meta();
      const res = await upload(citizen('alice'), { ...m, payloadSize: jwe.length }, jwe, { 'idempotency-key': 'declared-1' });
      expect(res.status).toBe(201);
      receivedEvents++;
      expect(res.body.payload).toEqual({ size: jwe.length, sha256: sha256(jwe) });
      expect(res.body).not.toHaveProperty('payloadSize');
      const download = await get(citizen('alice'), `/api/v1/documents/${res.body.id}/payload`);
      expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(jwe));
      // the declared size is not part of what the key compares: the payload's hash covers it
      const replay = await upload(citizen('alice'), m, jwe, { 'idempotency-key': 'declared-1' });
      expect(replay.status).toBe(201);
      expect(replay.body.id).toBe(res.body.id);
      expect(await intake.counts()).toMatchObject({ pending: 0 });
    });

    it('accepts the application/json variant with a JWE in JSON serialization (citizen key as second recipient)', async () => {
      const citizenKey = await makeEncryptionKey('citizen-own');
      const jwe = await encryptJson([key, citizenKey], randomBytes(10_000));
      const res = await post(
        citizen('bob'),
        JSON.stringify({ metadata: meta({ replyKey: citizenKey.publicJwk }), encryptedPayload: Buffer.from(jwe).toString('base64') }),
        'application/json',
      );
      expect(res.status).toBe(201);
      receivedEvents++;
      expect(res.body.payload).toEqual({ size: jwe.length, sha256: sha256(jwe) });
      expect(res.body.replyKey).toBeUndefined(); // citizens do not get it echoed
      const asOfficial = (await (await get(official('a1'), `/api/v1/documents/${res.body.id}`)).json()) as { replyKey: unknown };
      expect(asOfficial.replyKey).toMatchObject({ kid: 'citizen-own', kty: 'EC', use: 'enc' });
      const dl = await get(citizen('bob'), `/api/v1/documents/${res.body.id}/payload`);
      expect(dl.headers.get('content-type')).toBe('application/jose+json');
      expect(await dl.text()).toBe(jwe);
    });
  });

  describe('refused uploads keep nothing', () => {
    let before: Awaited<ReturnType<Intake['counts']>>;
    let objects: number;
    beforeEach(async () => {
      before = await intake.counts();
      objects = (await intake.objectKeys()).length;
    });
    afterEach(async () => {
      // barrier: a wrongly written event would be in the outbox; once it is empty and the probe read its queue, it would be there
      await pollUntil(async () => (await intake.counts()).outbox === 0, { what: 'outbox relayed' });
      await intake.probe.barrier();
      await expectNothingKept(before, objects);
    });

    it.each([
      ['an unknown metadata field', () => meta({ colour: 'red' }), 'colour'],
      ['a missing Aktenzeichen', () => ({ authorityId: 'a1', documentType: 'X' }), 'referenceNumber'],
      ['a too long Aktenzeichen', () => meta({ referenceNumber: 'x'.repeat(51) }), 'referenceNumber'],
      ['a bad documentType', () => meta({ documentType: 'widerspruch' }), 'documentType'],
      ['a bad serviceKey', () => meta({ serviceKey: '123' }), 'serviceKey'],
      ['a bad regionKey', () => meta({ regionKey: '0916' }), 'regionKey'],
      ['a private replyKey', () => meta({ replyKey: { ...key.publicJwk, ...key.privateJwk } }), 'replyKey'],
    ])('400 for %s, naming the field and not echoing the Aktenzeichen', async (_n, m, field) => {
      const metadata = m();
      const res = await upload(citizen('carol'), metadata, await encryptCompact(key, 100));
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      if ('referenceNumber' in metadata) expect(JSON.stringify(res.body)).not.toContain(String(metadata.referenceNumber));
    });

    it('400 when the payload part comes first, or a part is missing, or metadata is not JSON', async () => {
      const jwe = await encryptCompact(key, 100);
      const swapped = multipartBody([
        { name: 'encryptedPayload', value: jwe, filename: 'x.jwe' },
        { name: 'metadata', value: JSON.stringify(meta()) },
      ]);
      expect((await post(citizen('carol'), swapped.body, swapped.contentType)).status).toBe(400);
      const onlyMeta = multipartBody([{ name: 'metadata', value: JSON.stringify(meta()) }]);
      expect((await post(citizen('carol'), onlyMeta.body, onlyMeta.contentType)).status).toBe(400);
      const broken = multipartBody([
        { name: 'metadata', value: '{"referenceNumber": ' },
        { name: 'encryptedPayload', value: jwe, filename: 'x.jwe' },
      ]);
      expect((await post(citizen('carol'), broken.body, broken.contentType)).status).toBe(400);
    });

    it('415 for another media type', async () => {
      const res = await post(citizen('carol'), 'hello', 'text/plain');
      expect(res.status).toBe(415);
    });

    it('404 for officials, who do not upload', async () => {
      expect((await upload(official('a1'), meta(), await encryptCompact(key, 100))).status).toBe(404);
    });

    it.each([
      ['a PDF', async () => Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(50_000)]), 'not-a-jwe'],
      ['a ZIP', async () => Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), randomBytes(50_000)]), 'not-a-jwe'],
      ['plain text', async () => 'Sehr geehrte Damen und Herren, hiermit widerspreche ich', 'not-a-jwe'],
      ['a truncated container', async () => (await encryptCompact(key, 200_000)).slice(0, -40), 'truncated-jwe'],
      ['a container for a key the authority does not have', async () => encryptCompact(otherKey, 1000), 'unknown-kid'],
    ])('422 for %s, naming the rule', async (_n, make, rule) => {
      const res = await upload(citizen('carol'), meta(), await make());
      expect(res.status).toBe(422);
      expect(res.body.type).toBe(`https://direktvermittlung.de/problems/${rule}`);
    });

    it('422 for an unknown authority', async () => {
      const res = await upload(citizen('carol'), meta({ authorityId: 'nowhere' }), await encryptCompact(key, 100));
      expect(res.status).toBe(422);
      expect(res.body.type).toContain('unknown-authority');
    });

    it('413 as soon as MAX_UPLOAD_BYTES is passed, without reading the rest', async () => {
      // a valid-looking container far larger than the limit, sent slowly: the answer must come before the end
      const jwe = await encryptCompact(key, MAX);
      const { body, contentType } = documentUpload(meta(), jwe + 'A'.repeat(20 * 1024 * 1024));
      const path = '/api/v1/documents';
      const result = await new Promise<{ status: number; sentBytes: number }>((resolve, reject) => {
        const req = httpRequest(`${intake.base}${path}`, {
          method: 'POST',
          headers: { ...signedHeaders(citizen('carol'), 'POST', path, { contentType, chunked: true }), 'content-type': contentType },
        });
        let sent = 0;
        let answered = false;
        req.on('response', (res) => {
          answered = true;
          res.resume();
          resolve({ status: res.statusCode!, sentBytes: sent });
          req.destroy();
        });
        req.on('error', (e) => (answered ? undefined : reject(e)));
        const pump = () => {
          while (!answered && sent < body.length) {
            const chunk = body.subarray(sent, sent + 256 * 1024);
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          if (!answered) req.end();
        };
        pump();
      });
      expect(result.status).toBe(413);
      expect(result.sentBytes).toBeLessThan(body.length);
    });

    it.each([
      ['shorter than', 1],
      ['longer than', -1],
      ['far longer than', -200_000],
    ])('400 for a payload %s its declared payloadSize, naming the field', async (_n, off) => {
      const jwe = await encryptCompact(key, 300_000);
      const res = await upload(citizen('carol'), meta({ payloadSize: jwe.length + off }), jwe);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(res.body.errors).toEqual([{ field: 'payloadSize', message: expect.any(String) }]);
    });

    it.each([0, -5, 1.5, '300'])('400 for the payloadSize %p', async (payloadSize) => {
      const res = await upload(citizen('carol'), meta({ payloadSize }), await encryptCompact(key, 100));
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('payloadSize');
    });

    it('400 for a JSON upload whose payload is not its declared payloadSize', async () => {
      const jwe = await encryptCompact(key, 1000);
      const res = await post(
        citizen('carol'),
        JSON.stringify({ metadata: meta({ payloadSize: jwe.length + 7 }), encryptedPayload: Buffer.from(jwe).toString('base64') }),
        'application/json',
      );
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ field: 'payloadSize', message: expect.any(String) }]);
    });

    it('413 for a declared payloadSize above MAX_UPLOAD_BYTES before a byte of the payload arrives', async () => {
      const { body, contentType } = documentUpload(meta({ payloadSize: MAX + 1 }), Buffer.alloc(0));
      // everything up to the payload's part headers; the request never ends, yet it is answered
      const head = body.subarray(0, body.indexOf('\r\n\r\n', body.indexOf('encryptedPayload')) + 4);
      const path = '/api/v1/documents';
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${intake.base}${path}`, {
          method: 'POST',
          headers: { ...signedHeaders(citizen('carol'), 'POST', path, { contentType, chunked: true }), 'content-type': contentType },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode!);
          req.destroy();
        });
        req.on('error', reject);
        req.write(head);
      });
      expect(status).toBe(413);
    });

    it('413 for a JSON upload whose payload exceeds the limit', async () => {
      const res = await post(
        citizen('carol'),
        JSON.stringify({ metadata: meta(), encryptedPayload: randomBytes(MAX + 10).toString('base64') }),
        'application/json',
      );
      expect(res.status).toBe(413);
    });
  });

  describe('503 when storage is down', () => {
    it('answers 503 and keeps no row, no object, no event', async () => {
      const before = await intake.counts();
      const objectsBefore = (await intake.objectKeys()).length;
      await intake.stopS3();
      try {
        const res = await upload(citizen('dave'), meta(), await encryptCompact(key, 500_000));
        expect(res.status).toBe(503);
        expect(res.body.type).toContain('dependency-unavailable');
      } finally {
        await intake.restartS3();
      }
      // the object could not be cleaned up while S3 was down; the sweeper does it afterwards
      expect(await intake.app.get(PendingObjectSweeper).sweep(0)).toBeLessThanOrEqual(1);
      await expectNothingKept(before, objectsBefore);
    });
  });

  describe('503 when the object was swept as abandoned before the commit', () => {
    it('answers 503 and writes no row, no history, no event, and removes the object', async () => {
      const before = await intake.counts();
      const objectsBefore = (await intake.objectKeys()).length;
      const historyBefore = Number((await intake.sql.query('SELECT count(*)::int AS n FROM intake.document_history')).rows[0].n);
      const { body, contentType } = documentUpload(meta(), await encryptCompact(key, 1_000_000));
      const path = '/api/v1/documents';
      const half = Math.floor(body.length / 2);
      const response = new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${intake.base}${path}`, {
          method: 'POST',
          headers: {
            ...signedHeaders(citizen('sweepy'), 'POST', path, { body, contentType }),
            'content-type': contentType,
            'content-length': String(body.length),
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.write(body.subarray(0, half));
        void (async () => {
          // the object is being written; the sweeper takes its pending row meanwhile
          await pollUntil(async () => (await intake.sql.query('DELETE FROM intake.pending_objects RETURNING 1')).rowCount! > 0, {
            what: 'upload under way',
          });
          req.end(body.subarray(half));
        })().catch(reject);
      });
      expect(await response).toBe(503);
      await expectNothingKept(before, objectsBefore);
      expect(Number((await intake.sql.query('SELECT count(*)::int AS n FROM intake.document_history')).rows[0].n)).toBe(historyBefore);
    });
  });

  describe('503 when Postgres fails mid-upload', () => {
    it('answers 503 and leaves neither row nor object', async () => {
      const before = await intake.counts();
      const objectsBefore = (await intake.objectKeys()).length;
      const jwe = await encryptCompact(key, 1_000_000);
      const { body, contentType } = documentUpload(meta(), jwe);
      const path = '/api/v1/documents';
      const half = Math.floor(body.length / 2);
      const admin = new Client({ connectionString: BASE_DATABASE_URL });
      await admin.connect();
      const response = new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${intake.base}${path}`, {
          method: 'POST',
          headers: {
            ...signedHeaders(citizen('erin'), 'POST', path, { body, contentType }),
            'content-type': contentType,
            'content-length': String(body.length),
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.write(body.subarray(0, half));
        void (async () => {
          // the object is being written; now the database goes away
          await pollUntil(async () => (await intake.sql.query('SELECT count(*)::int AS n FROM intake.pending_objects')).rows[0].n > 0, {
            what: 'upload under way',
          });
          await admin.query(`ALTER DATABASE "${intake.db.name}" ALLOW_CONNECTIONS false`);
          await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'intake'`, [
            intake.db.name,
          ]);
          req.end(body.subarray(half));
        })().catch(reject);
      });
      try {
        expect(await response).toBe(503);
      } finally {
        await admin.query(`ALTER DATABASE "${intake.db.name}" ALLOW_CONNECTIONS true`);
        await admin.end();
      }
      const after = await intake.counts();
      expect(after.documents).toBe(before.documents);
      expect((await intake.objectKeys()).length).toBe(objectsBefore);
    });
  });

  describe('Idempotency-Key', () => {
    it('answers the first response again for the same request, and 422 for a different one', async () => {
      const jwe = await encryptCompact(key, 5000);
      const m = meta();
      const first = await upload(citizen('frank'), m, jwe, { 'idempotency-key': 'k-1' });
      const again = await upload(citizen('frank'), m, jwe, { 'idempotency-key': 'k-1' });
      expect(first.status).toBe(201);
      expect(again.status).toBe(201);
      expect(again.body.id).toBe(first.body.id);
      const different = await upload(citizen('frank'), meta(), jwe, { 'idempotency-key': 'k-1' });
      expect(different.status).toBe(422);
      expect(different.body.type).toContain('idempotency-key-reused');
      // the key is scoped to the citizen
      const otherCitizen = await upload(citizen('grace'), m, jwe, { 'idempotency-key': 'k-1' });
      expect(otherCitizen.status).toBe(201);
      expect(otherCitizen.body.id).not.toBe(first.body.id);
      receivedEvents += 2;
    });

    it('400 for an over-long key', async () => {
      expect((await upload(citizen('frank'), meta(), await encryptCompact(key, 10), { 'idempotency-key': 'k'.repeat(101) })).status).toBe(
        400,
      );
    });

    it('creates exactly one document for 20 parallel identical requests', async () => {
      const jwe = await encryptCompact(key, 200_000);
      const m = meta();
      const results = await Promise.all(
        Array.from({ length: 20 }, () => upload(citizen('heidi'), m, jwe, { 'idempotency-key': 'race-1' })),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
      const ids = new Set(results.filter((r) => r.status === 201).map((r) => r.body.id));
      expect(ids.size).toBe(1);
      const rows = await intake.sql.query(`SELECT count(*)::int AS n FROM intake.documents WHERE citizen_id = 'heidi'`);
      expect(rows.rows[0].n).toBe(1);
      // once finished, every retry gets the one document
      const retry = await upload(citizen('heidi'), m, jwe, { 'idempotency-key': 'race-1' });
      expect(retry.status).toBe(201);
      expect(ids.has(retry.body.id)).toBe(true);
      receivedEvents++;
    });
  });

  describe('who sees what (BOLA)', () => {
    it('answers 404 for another citizen’s document and another authority’s officials', async () => {
      const mine = await upload(citizen('ivan'), meta(), await encryptCompact(key, 100));
      receivedEvents++;
      for (const path of [`/api/v1/documents/${mine.body.id}`, `/api/v1/documents/${mine.body.id}/payload`]) {
        expect((await get(citizen('ivan'), path)).status).toBe(200);
        expect((await get(official('a1'), path)).status).toBe(200);
        expect((await get(citizen('judy'), path)).status).toBe(404);
        expect((await get(official('a2'), path)).status).toBe(404);
      }
      const list = (await (await get(citizen('judy'), '/api/v1/documents')).json()) as { items: unknown[] };
      expect(list.items).toEqual([]);
      const authorityList = (await (await get(official('a2'), '/api/v1/documents')).json()) as { items: Array<{ id: string }> };
      expect(authorityList.items.map((d: { id: string }) => d.id)).not.toContain(mine.body.id);
    });
  });
});
