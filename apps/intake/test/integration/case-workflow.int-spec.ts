import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import {
  TEST_RECEIPT_KEY,
  TestUser,
  admin,
  citizen,
  documentUpload,
  encryptCompact,
  generateTestReceiptKey,
  makeEncryptionKey,
  multipartBody,
  official,
  pollUntil,
  signedHeaders,
  testReceiptEnv,
  type TestEncryptionKey,
} from '@dvd/testing';
import { createIntakeApp } from '../../src/main';
import { Intake, startIntake } from './intake-harness';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Receipts, decisions and the history at intake (real Postgres, RabbitMQ, local S3; the
 * key directory as in every intake test). Decisions here are an admin's (no thread needed);
 * officials holding threads, asked of the real communication service, and everything through
 * the gateway are in apps/e2e/src/case-workflow.e2e-spec.ts.
 */
describe('case workflow at intake: receipts, accept, reject, forward, history', () => {
  let intake: Intake;
  let k1: TestEncryptionKey;
  let b1: TestEncryptionKey;

  const call = async (user: TestUser, method: string, path: string, json?: unknown, headers: Record<string, string> = {}) => {
    const body = json === undefined ? undefined : JSON.stringify(json);
    const res = await fetch(`${intake.base}${path}`, {
      method,
      headers: {
        ...signedHeaders(user, method, path, { body }),
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Json };
  };

  const postMultipart = async (
    user: TestUser,
    path: string,
    parts: { body: Buffer; contentType: string },
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${intake.base}${path}`, {
      method: 'POST',
      headers: {
        ...signedHeaders(user, 'POST', path, { body: parts.body, contentType: parts.contentType }),
        'content-type': parts.contentType,
        ...headers,
      },
      body: parts.body,
    });
    return { status: res.status, body: (await res.json()) as Json };
  };

  async function upload(user = citizen('alice'), idempotencyKey?: string, payload?: string) {
    const jwe = payload ?? (await encryptCompact(k1, 200));
    const res = await postMultipart(
      user,
      '/api/v1/documents',
      documentUpload({ referenceNumber: 'AZ-4711', authorityId: 'a1', documentType: 'ANTRAG' }, jwe),
      idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
    );
    expect(res.status).toBe(201);
    return res.body;
  }

  const forwardParts = (target: string, jwe: string, payloadSize?: number) =>
    multipartBody([
      { name: 'metadata', value: JSON.stringify({ targetAuthorityId: target, payloadSize }), contentType: 'application/json' },
      { name: 'encryptedPayload', value: jwe, filename: 'p.jwe', contentType: 'application/jose' },
    ]);

  const history = async (user: TestUser, id: string) =>
    ((await call(user, 'GET', `/api/v1/documents/${id}/history`)).body.items as Json[]).map((e) => [e.state, e.actorRole]);

  const jwks = async (base = intake.base) => {
    const res = await fetch(`${base}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    return (await res.json()) as { keys: Json[] };
  };

  beforeAll(async () => {
    intake = await startIntake();
    [k1, b1] = await Promise.all([makeEncryptionKey('a1-k1'), makeEncryptionKey('b1-k1')]);
    await intake.registerAuthority('a1', ['a1-k1']);
    await intake.registerAuthority('b1', ['b1-k1'], 'P30D');
  }, 60_000);
  afterAll(() => intake?.close());

  describe('receipts', () => {
    it('answers a receipt with the 201 that verifies against the JWKS served without identity, with no Aktenzeichen', async () => {
      const doc = await upload();
      const keys = await jwks();
      expect(keys.keys).toEqual([
        expect.objectContaining({ kid: TEST_RECEIPT_KEY.kid, kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' }),
      ]);
      expect(keys.keys[0].d).toBeUndefined();
      expect(decodeProtectedHeader(doc.receipt)).toEqual({ alg: 'EdDSA', typ: 'dvd-receipt+jwt', kid: TEST_RECEIPT_KEY.kid });
      const { payload } = await jwtVerify(doc.receipt, createLocalJWKSet(keys as never), {
        typ: 'dvd-receipt+jwt',
        issuer: 'https://dvd.test',
        algorithms: ['EdDSA', 'ES256'],
      });
      expect(payload).toEqual({
        iss: 'https://dvd.test',
        sub: doc.id,
        iat: Math.floor(Date.parse(doc.createdAt) / 1000),
        authorityId: 'a1',
        documentType: 'ANTRAG',
        payload: doc.payload,
        payloadKid: 'a1-k1',
      });
      expect(Buffer.from(doc.receipt.split('.')[1], 'base64url').toString()).not.toContain('AZ-4711');
      // GET …/receipt: the identical JWS, for the owner and the authority; nobody else
      for (const who of [citizen('alice'), official('a1'), admin('a1')]) {
        expect((await call(who, 'GET', `/api/v1/documents/${doc.id}/receipt`)).body).toEqual({
          documentId: doc.id,
          receipt: doc.receipt,
          claims: payload,
        });
      }
      for (const who of [citizen('mallory'), official('b1')])
        expect((await call(who, 'GET', `/api/v1/documents/${doc.id}/receipt`)).status).toBe(404);
    });

    it('answers an Idempotency-Key replay with the same receipt', async () => {
      const jwe = await encryptCompact(k1, 100);
      const key = randomUUID();
      const first = await upload(citizen('bob'), key, jwe);
      const again = await upload(citizen('bob'), key, jwe);
      expect(again.id).toBe(first.id);
      expect(again.receipt).toBe(first.receipt);
    });

    it('publishes a retired key while a receipt it signed exists, and signs with the new current key', async () => {
      const doc = await upload(citizen('rotation'));
      const next = generateTestReceiptKey('test-receipts-2', 'ES256');
      const unused = generateTestReceiptKey('test-receipts-unused');
      // a second replica on the same database, with the new key first and the old ones retired
      const rotated: INestApplication = await createIntakeApp({
        ...intake.config,
        ...testReceiptEnv([next, TEST_RECEIPT_KEY, unused]),
        RECEIPT_SIGNING_KEY_FILE: undefined,
      });
      await rotated.listen(0, '127.0.0.1');
      try {
        const base = (await rotated.getUrl()).replace('[::1]', '127.0.0.1');
        const keys = await jwks(base);
        expect(keys.keys.map((k) => k.kid)).toEqual(['test-receipts-2', TEST_RECEIPT_KEY.kid]); // the unused retired key is not published
        expect(keys.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
        // the old receipt still verifies with the published set
        await jwtVerify(doc.receipt, createLocalJWKSet(keys as never), { typ: 'dvd-receipt+jwt' });
        // a new upload through the rotated replica is signed with the new key
        const path = '/api/v1/documents';
        const parts = documentUpload({ referenceNumber: 'AZ-1', authorityId: 'a1', documentType: 'ANTRAG' }, await encryptCompact(k1, 50));
        const res = await fetch(`${base}${path}`, {
          method: 'POST',
          headers: {
            ...signedHeaders(citizen('rotation'), 'POST', path, { body: parts.body, contentType: parts.contentType }),
            'content-type': parts.contentType,
          },
          body: parts.body,
        });
        const created = (await res.json()) as Json;
        expect(decodeProtectedHeader(created.receipt)).toMatchObject({ alg: 'ES256', kid: 'test-receipts-2' });
        await jwtVerify(created.receipt, createLocalJWKSet(keys as never), { typ: 'dvd-receipt+jwt' });
      } finally {
        await rotated.close();
      }
    });
  });

  describe('decisions', () => {
    it('accepts once (repeat: 200, same state), then refuses reject and forward with 409, with one event and history entry', async () => {
      const doc = await upload(citizen('carol'));
      const first = await call(admin('a1'), 'POST', `/api/v1/documents/${doc.id}/accept`);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ id: doc.id, status: 'ACCEPTED', rejection: null, forwardedTo: null });
      const again = await call(admin('a1'), 'POST', `/api/v1/documents/${doc.id}/accept`);
      expect(again).toMatchObject({ status: 200, body: first.body });
      const reject = await call(admin('a1'), 'POST', `/api/v1/documents/${doc.id}/reject`, { reasonCode: 'OTHER' });
      expect(reject.status).toBe(409);
      expect(reject.body.type).toMatch(/\/invalid-transition$/);
      const forward = await postMultipart(
        admin('a1'),
        `/api/v1/documents/${doc.id}/forward`,
        forwardParts('b1', await encryptCompact(b1, 50)),
      );
      expect(forward.status).toBe(409);
      expect(forward.body.type).toMatch(/\/invalid-transition$/);
      await intake.probe.waitFor('document.accepted', (e) => e.documentId === doc.id);
      expect(intake.probe.of('document.accepted', (e) => e.documentId === doc.id)).toEqual([
        expect.objectContaining({ data: { documentId: doc.id, authorityId: 'a1', actorRole: 'admin' } }),
      ]);
      // the realtime stream (ADR 0021) learns the new status from the same transaction
      await intake.probe.waitFor('document.status-changed', (e) => e.documentId === doc.id && e.status === 'ACCEPTED');
      expect(await history(citizen('carol'), doc.id)).toEqual([
        ['RECEIVED', 'citizen'],
        ['ACCEPTED', 'admin'],
      ]);
    });

    it('keeps a decision when progress events arrive later; an export after it is recorded in the history once', async () => {
      const doc = await upload(citizen('dave'));
      await call(admin('a1'), 'POST', `/api/v1/documents/${doc.id}/accept`);
      const deliver = async (publish: () => Promise<{ id: string }>) => {
        const envelope = await publish();
        await pollUntil(
          async () => (await intake.sql.query('SELECT 1 FROM intake.processed_events WHERE event_id = $1', [envelope.id])).rowCount === 1,
          { what: 'event applied' },
        );
      };
      await deliver(() =>
        intake.probe.publish('document.routed', {
          documentId: doc.id,
          authorityId: 'a1',
          unitId: 'poststelle',
          ruleId: null,
          revision: 1,
          claimDeadline: 'P3D',
        }),
      );
      await deliver(() => intake.probe.publish('thread.claimed', { threadId: randomUUID(), documentId: doc.id, officialId: 'o-1' }));
      for (let i = 0; i < 2; i++) {
        await deliver(() => intake.probe.publish('export.completed', { jobId: randomUUID(), documentId: doc.id, authorityId: 'a1' }));
      }
      expect((await call(official('a1'), 'GET', `/api/v1/documents/${doc.id}`)).body).toMatchObject({
        status: 'ACCEPTED',
        unitId: 'poststelle',
      });
      expect(await history(official('a1'), doc.id)).toEqual([
        ['RECEIVED', 'citizen'],
        ['ACCEPTED', 'admin'],
        ['EXPORTED', 'system'],
      ]);
    });

    it('rejects with a reason and an encrypted note; plain text is refused, another reason or accept is 409', async () => {
      const doc = await upload(citizen('erin'));
      const plain = await call(admin('a1'), 'POST', `/api/v1/documents/${doc.id}/reject`, {
        reasonCode: 'INCOMPLETE',
        note: 'Bitte Lageplan nachreichen',
      });
      expect(plain.status).toBe(422);
      expect(JSON.stringify(plain.body)).not.toContain('Lageplan');
      expect((await call(admin('a1'), 'POST', `/api/v1/documents/${doc.id}/reject`, { reasonCode: 'LAZY' })).status).toBe(400);
      const note = await encryptCompact(await makeEncryptionKey('citizen-reply'), 40);
      const rejected = await call(admin('a1'), 'POST', `/api/v1/documents/${doc.id}/reject`, { reasonCode: 'INCOMPLETE', note });
      expect(rejected.status).toBe(200);
      expect(rejected.body).toMatchObject({ status: 'REJECTED', rejection: { reasonCode: 'INCOMPLETE', note } });
      // the citizen sees the reason and the note
      expect((await call(citizen('erin'), 'GET', `/api/v1/documents/${doc.id}`)).body.rejection).toEqual({
        reasonCode: 'INCOMPLETE',
        note,
      });
      const repeat = await call(admin('a1'), 'POST', `/api/v1/documents/${doc.id}/reject`, { reasonCode: 'INCOMPLETE' });
      expect(repeat).toMatchObject({ status: 200, body: { rejection: { reasonCode: 'INCOMPLETE', note } } });
      expect((await call(admin('a1'), 'POST', `/api/v1/documents/${doc.id}/reject`, { reasonCode: 'DUPLICATE' })).status).toBe(409);
      expect((await call(admin('a1'), 'POST', `/api/v1/documents/${doc.id}/accept`)).status).toBe(409);
      const entries = (await call(citizen('erin'), 'GET', `/api/v1/documents/${doc.id}/history`)).body.items as Json[];
      expect(entries.map((e) => [e.state, e.actorRole, e.reasonCode])).toEqual([
        ['RECEIVED', 'citizen', undefined],
        ['REJECTED', 'admin', 'INCOMPLETE'],
      ]);
      const event = await intake.probe.waitFor('document.rejected', (e) => e.documentId === doc.id);
      expect(event.data).toEqual({ documentId: doc.id, authorityId: 'a1', reasonCode: 'INCOMPLETE', actorRole: 'admin' });
    });

    it('lets neither citizens nor another authority decide (404), and refuses what is not a document (404)', async () => {
      const doc = await upload(citizen('frank'));
      for (const who of [admin('b1'), official('b1')])
        expect((await call(who, 'POST', `/api/v1/documents/${doc.id}/accept`)).status).toBe(404);
      expect((await call(citizen('frank'), 'POST', `/api/v1/documents/${doc.id}/accept`)).status).toBe(404);
      expect((await call(admin('a1'), 'POST', `/api/v1/documents/${randomUUID()}/accept`)).status).toBe(404);
      expect((await call(admin('a1'), 'POST', `/api/v1/documents/not-a-uuid/accept`)).status).toBe(404);
      expect((await call(citizen('frank'), 'GET', `/api/v1/documents/${doc.id}`)).body.status).toBe('RECEIVED');
    });
  });

  describe('forward', () => {
    it('creates the new document for the same citizen at the target, marks the original FORWARDED, replays by key', async () => {
      const doc = await upload(citizen('gina'));
      const jwe = await encryptCompact(b1, 300);
      const key = randomUUID();
      const path = `/api/v1/documents/${doc.id}/forward`;
      const res = await postMultipart(admin('a1'), path, forwardParts('b1', jwe), { 'idempotency-key': key });
      expect(res.status).toBe(200);
      const { document, forwarded } = res.body;
      expect(document).toMatchObject({ id: doc.id, status: 'FORWARDED', forwardedTo: forwarded.id, forwardedFrom: null });
      expect(forwarded).toMatchObject({ authorityId: 'b1', payload: { size: Buffer.byteLength(jwe) } });
      // the replay: the same answer, nothing new
      const replay = await postMultipart(admin('a1'), path, forwardParts('b1', jwe), { 'idempotency-key': key });
      expect(replay).toEqual(res);
      const reused = await postMultipart(admin('a1'), path, forwardParts('b1', await encryptCompact(b1, 300)), { 'idempotency-key': key });
      expect(reused.status).toBe(422);
      expect(reused.body.type).toMatch(/\/idempotency-key-reused$/);
      // the citizen sees both and the chain; the target's staff see the new one only
      const mine = (await call(citizen('gina'), 'GET', '/api/v1/documents')).body.items as Json[];
      expect(mine.map((d) => [d.id, d.status, d.authorityId, d.forwardedFrom, d.forwardedTo])).toEqual([
        [forwarded.id, 'RECEIVED', 'b1', doc.id, null],
        [doc.id, 'FORWARDED', 'a1', null, forwarded.id],
      ]);
      const atTarget = await call(official('b1'), 'GET', `/api/v1/documents/${forwarded.id}`);
      expect(atTarget.body).toMatchObject({
        referenceNumber: 'AZ-4711',
        documentType: 'ANTRAG',
        forwardedFrom: doc.id,
        payload: forwarded.payload,
      });
      expect((await call(official('b1'), 'GET', `/api/v1/documents/${doc.id}`)).status).toBe(404);
      // its own receipt, for the target and the new payload
      const receipt = (await call(citizen('gina'), 'GET', `/api/v1/documents/${forwarded.id}/receipt`)).body.receipt;
      expect(receipt).toBe(forwarded.receipt);
      const { payload } = await jwtVerify(receipt, createLocalJWKSet((await jwks()) as never), { typ: 'dvd-receipt+jwt' });
      expect(payload).toMatchObject({ sub: forwarded.id, authorityId: 'b1', payload: forwarded.payload, payloadKid: 'b1-k1' });
      // events: the new document is received (and will be routed), the original forwarded
      const received = await intake.probe.waitFor('document.received', (e) => e.documentId === forwarded.id);
      expect(received.data).toMatchObject({ citizenId: 'gina', authorityId: 'b1', documentType: 'ANTRAG' });
      const event = await intake.probe.waitFor('document.forwarded', (e) => e.documentId === doc.id);
      expect(event.data).toEqual({
        documentId: doc.id,
        authorityId: 'a1',
        forwardedToDocumentId: forwarded.id,
        targetAuthorityId: 'b1',
        actorRole: 'admin',
      });
      // the realtime stream: the original FORWARDED (to a1's staff), the new one RECEIVED (to b1's), both to the citizen
      const forwardedChange = await intake.probe.waitFor(
        'document.status-changed',
        (e) => e.documentId === doc.id && e.status !== 'RECEIVED',
      );
      expect(forwardedChange.data).toMatchObject({ citizenId: 'gina', authorityId: 'a1', status: 'FORWARDED' });
      const receivedChange = await intake.probe.waitFor('document.status-changed', (e) => e.documentId === forwarded.id);
      expect(receivedChange.data).toEqual({
        documentId: forwarded.id,
        citizenId: 'gina',
        authorityId: 'b1',
        unitId: null,
        status: 'RECEIVED',
      });
      expect(await history(citizen('gina'), doc.id)).toEqual([
        ['RECEIVED', 'citizen'],
        ['FORWARDED', 'admin'],
      ]);
      expect(await history(citizen('gina'), forwarded.id)).toEqual([['RECEIVED', 'admin']]);
      // and the original is final
      expect((await call(admin('a1'), 'POST', `/api/v1/documents/${doc.id}/accept`)).status).toBe(409);
      const twice = await postMultipart(admin('a1'), path, forwardParts('b1', jwe));
      expect(twice.status).toBe(409);
    });

    it('stores a payload of the declared payloadSize; refuses another length with 400 and a too large one with 413, keeping nothing', async () => {
      const stored = async () => {
        const { documents, pending, idempotency } = await intake.counts();
        return { documents, pending, idempotency };
      };
      const doc = await upload(citizen('ines'));
      const path = `/api/v1/documents/${doc.id}/forward`;
      const jwe = await encryptCompact(b1, 200_000);
      const before = await stored();
      const objects = (await intake.objectKeys()).length;
      for (const declared of [jwe.length + 1, jwe.length - 1]) {
        const res = await postMultipart(admin('a1'), path, forwardParts('b1', jwe, declared));
        expect(res.status).toBe(400);
        expect(res.body.errors).toEqual([{ field: 'payloadSize', message: expect.any(String) }]);
      }
      const tooLarge = await postMultipart(admin('a1'), path, forwardParts('b1', jwe, 1024 ** 4));
      expect(tooLarge.status).toBe(413);
      expect(await stored()).toEqual(before);
      expect((await intake.objectKeys()).length).toBe(objects);

      const res = await postMultipart(admin('a1'), path, forwardParts('b1', jwe, jwe.length));
      expect(res.status).toBe(200);
      expect(res.body.forwarded.payload.size).toBe(jwe.length);
      const dl = await fetch(`${intake.base}/api/v1/documents/${res.body.forwarded.id}/payload`, {
        headers: signedHeaders(official('b1'), 'GET', `/api/v1/documents/${res.body.forwarded.id}/payload`),
      });
      expect(await dl.text()).toBe(jwe);
    });

    it('refuses a container the target cannot open, an unknown target and the own authority, keeping nothing', async () => {
      const doc = await upload(citizen('hank'));
      const stored = async () => {
        const { documents, pending, idempotency } = await intake.counts();
        return { documents, pending, idempotency };
      };
      const before = await stored();
      const objects = (await intake.objectKeys()).length;
      const path = `/api/v1/documents/${doc.id}/forward`;
      const forOriginal = await postMultipart(admin('a1'), path, forwardParts('b1', await encryptCompact(k1, 100)));
      expect(forOriginal.status).toBe(422);
      expect(forOriginal.body.type).toMatch(/\/unknown-kid$/);
      expect((await postMultipart(admin('a1'), path, forwardParts('nowhere', await encryptCompact(b1, 100)))).body.type).toMatch(
        /\/unknown-authority$/,
      );
      expect((await postMultipart(admin('a1'), path, forwardParts('a1', await encryptCompact(k1, 100)))).body.type).toMatch(
        /\/same-authority$/,
      );
      const notJson = await fetch(`${intake.base}${path}`, {
        method: 'POST',
        headers: { ...signedHeaders(admin('a1'), 'POST', path, { body: '{}' }), 'content-type': 'application/json' },
        body: '{}',
      });
      expect(notJson.status).toBe(415);
      expect(await stored()).toEqual(before);
      expect((await intake.objectKeys()).length).toBe(objects);
      expect((await call(citizen('hank'), 'GET', `/api/v1/documents/${doc.id}`)).body.status).toBe('RECEIVED');
    });
  });
});
