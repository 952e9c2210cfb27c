import { randomBytes, randomUUID } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import {
  DvdClient,
  DvdProblemError,
  DvdReceiptError,
  decryptMessage,
  decryptWith,
  encryptFor,
  generateAuthorityKeyPair,
  generateReplyKeyPair,
  verifyReceipt,
  type DvdDocument,
  type KeyPair,
} from '@dvd/sdk';
import { EventProbe, ResponseRecorder, pollUntil } from '@dvd/testing';
import { RunningPlatform, expectResponsesMatchOpenApi, startPlatform } from './platform-process';

/**
 * The case workflow over the whole platform, driven with the SDK through the gateway only:
 * signed receipts verified with `jose` against the JWKS served over HTTP, and every
 * decision — accept, reject, forward — by the official holding a thread (communication is
 * asked) or the authority's admin, each refused step, the history, and a forward whose
 * payload the target authority's key opens and the original's does not.
 */
describe('case workflow: receipts, accept, reject, forward (the platform, through the gateway)', () => {
  let p: RunningPlatform;
  let probe: EventProbe;
  const recorder = new ResponseRecorder();
  let keyA: KeyPair;
  let keyB: KeyPair;
  let reply: KeyPair;
  let sdk: Record<'platformAdmin' | 'adminA' | 'holder' | 'otherOfficial' | 'adminB' | 'officialB' | 'citizen' | 'otherCitizen', DvdClient>;

  /** A `fetch` that records every response for the check against docs/openapi.json. */
  const recordingFetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const url = new URL(String(input instanceof Request ? input.url : input));
    const type = res.headers.get('content-type');
    const text = type && /json/.test(type) ? await res.clone().text() : undefined;
    recorder.record({
      method: init?.method ?? 'GET',
      path: url.pathname + url.search,
      status: res.status,
      contentType: type,
      body: text === undefined ? (res.status === 204 || res.status === 304 ? undefined : '(binary)') : text ? JSON.parse(text) : undefined,
    });
    return res;
  };

  const problem = async (work: Promise<unknown>): Promise<DvdProblemError> => {
    const err = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DvdProblemError);
    return err as DvdProblemError;
  };

  beforeAll(async () => {
    p = await startPlatform();
    probe = await EventProbe.create(p.env.AMQP_URL, ['document.accepted', 'document.rejected', 'document.forwarded']);
    const client = async (body: Record<string, unknown>) =>
      new DvdClient({ baseUrl: `${p.gateway}/api/v1`, token: await p.token(body), fetch: recordingFetch, retryDelayMs: 50 });
    sdk = {
      platformAdmin: await client({ role: 'platform-admin', authority: 'platform' }),
      adminA: await client({ role: 'admin', authority: 'amt-a', sub: 'admin-a' }),
      holder: await client({ role: 'official', authority: 'amt-a', sub: 'o-holder' }),
      otherOfficial: await client({ role: 'official', authority: 'amt-a', sub: 'o-other' }),
      adminB: await client({ role: 'admin', authority: 'amt-b', sub: 'admin-b' }),
      officialB: await client({ role: 'official', authority: 'amt-b', sub: 'o-b' }),
      citizen: await client({ role: 'citizen', sub: 'erika' }),
      otherCitizen: await client({ role: 'citizen', sub: 'max' }),
    };
    [keyA, keyB, reply] = await Promise.all([
      generateAuthorityKeyPair({ alg: 'ECDH-ES+A256KW' }),
      generateAuthorityKeyPair({ alg: 'RSA-OAEP-256' }),
      generateReplyKeyPair(),
    ]);
    for (const [id, admin, key] of [
      ['amt-a', sdk.adminA, keyA],
      ['amt-b', sdk.adminB, keyB],
    ] as const) {
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      await sdk.platformAdmin.createAuthority({
        id,
        name: id,
        ingestUrl: 'https://eakte.example/in',
        ingestSecret: secret,
        retentionPeriod: 'P30D',
      });
      await admin.createUnit(id, { id: 'poststelle', name: 'Poststelle' });
      await admin.addAuthorityKey(id, key.publicJwk);
    }
  }, 180_000);

  afterAll(async () => {
    await probe?.close();
    await p?.stop();
  });

  /** A citizen's document at amt-a, routed; the upload is retried until intake learnt the authority. */
  async function routedDocument(file: Uint8Array): Promise<{ document: DvdDocument; receipt: string }> {
    const sent = await pollUntil(
      async () =>
        sdk.citizen
          .sendDocument({
            file,
            metadata: { referenceNumber: 'AZ-2026/4711', authorityId: 'amt-a', documentType: 'ANTRAG', replyKey: reply.publicJwk as never },
          })
          .catch((err: unknown) => {
            if (err instanceof DvdProblemError && err.code === 'unknown-authority') return null;
            throw err;
          }),
      { what: 'the upload to be accepted', timeoutMs: 30_000 },
    );
    await pollUntil(async () => (await sdk.citizen.getDocument(sent.document.id)).status === 'ROUTED', {
      what: 'ROUTED',
      timeoutMs: 30_000,
    });
    return { document: sent.document, receipt: sent.receipt };
  }

  /** The citizen opens a thread; the holder claims it (the document becomes ASSIGNED). */
  async function claimedBy(official: DvdClient, documentId: string) {
    const thread = await sdk.citizen.createThread(documentId, { type: 'CHAT' });
    await official.claimThread(thread.id);
    await pollUntil(async () => (await sdk.citizen.getDocument(documentId)).status === 'ASSIGNED', { what: 'ASSIGNED' });
  }

  const historyOf = async (documentId: string) =>
    (await sdk.citizen.getDocumentHistory(documentId)).items.map((e) => [e.state, e.actorRole, e.reasonCode ?? null]);

  it('signs a receipt that jose verifies against the JWKS served over HTTP, and that fails after one changed byte', async () => {
    const file = randomBytes(50_000);
    const { document, receipt } = await routedDocument(file);

    const res = await fetch(`${p.gateway}/.well-known/jwks.json`); // no token
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const jwksUrl = new URL(`${p.gateway}/.well-known/jwks.json`);
    const { payload, protectedHeader } = await jwtVerify(receipt, createRemoteJWKSet(jwksUrl), {
      typ: 'dvd-receipt+jwt',
      issuer: p.gateway,
      algorithms: ['EdDSA', 'ES256'],
    });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'dvd-receipt+jwt' });
    expect(payload).toEqual({
      iss: p.gateway,
      sub: document.id,
      iat: Math.floor(Date.parse(document.createdAt) / 1000),
      authorityId: 'amt-a',
      documentType: 'ANTRAG',
      payload: document.payload,
      payloadKid: keyA.kid,
    });
    expect(JSON.stringify(payload)).not.toContain('AZ-2026');

    // one byte changed anywhere: no longer valid
    for (const at of [20, receipt.indexOf('.') + 15, receipt.length - 5]) {
      const changed = receipt.slice(0, at) + (receipt[at] === 'A' ? 'B' : 'A') + receipt.slice(at + 1);
      await expect(jwtVerify(changed, createRemoteJWKSet(jwksUrl), { typ: 'dvd-receipt+jwt' })).rejects.toThrow();
      await expect(verifyReceipt(changed, jwksUrl)).rejects.toBeInstanceOf(DvdReceiptError);
    }

    // the same receipt for the citizen and the authority, verified by the SDK against what was sent
    for (const who of [sdk.citizen, sdk.otherOfficial]) expect((await who.getDocumentReceipt(document.id)).receipt).toBe(receipt);
    expect((await problem(sdk.otherCitizen.getDocumentReceipt(document.id))).status).toBe(404);
    const verified = await sdk.citizen.verifyReceipt(receipt, {
      issuer: p.gateway,
      expected: { documentId: document.id, ...document.payload },
    });
    expect(verified.claims.payloadKid).toBe(keyA.kid);
    await expect(sdk.citizen.verifyReceipt(receipt, { expected: { documentId: randomUUID() } })).rejects.toBeInstanceOf(DvdReceiptError);
  });

  it('lets only the official holding a thread (or an admin) decide; rejects with an encrypted note; refuses what follows', async () => {
    const { document } = await routedDocument(randomBytes(2_000));
    const id = document.id;
    // before anyone holds a thread: officials are refused as if the document did not exist
    expect((await problem(sdk.holder.acceptDocument(id))).status).toBe(404);
    await claimedBy(sdk.holder, id);
    for (const refused of [
      sdk.otherOfficial.rejectDocument(id, { reasonCode: 'OTHER' }),
      sdk.officialB.acceptDocument(id),
      sdk.adminB.acceptDocument(id),
      sdk.citizen.acceptDocument(id),
    ]) {
      expect((await problem(refused)).status).toBe(404);
    }
    expect((await sdk.citizen.getDocument(id)).status).toBe('ASSIGNED');

    // the holder rejects, with a note encrypted on their device to the citizen's reply key
    const rejected = await sdk.holder.rejectDocumentWithNote(id, 'INCOMPLETE', 'Bitte reichen Sie den Lageplan nach.');
    expect(rejected).toMatchObject({ status: 'REJECTED', rejection: { reasonCode: 'INCOMPLETE' } });
    const seen = await sdk.citizen.getDocument(id);
    expect(seen.rejection?.note).toMatch(/^[\w-]+(\.[\w-]*){4}$/);
    expect((await decryptMessage(seen.rejection!.note!, reply.privateJwk!)).text).toBe('Bitte reichen Sie den Lageplan nach.');
    // a plain-text note is refused; the same rejection again is 200; anything else 409
    expect((await problem(sdk.holder.rejectDocument(id, { reasonCode: 'INCOMPLETE', note: 'Lageplan fehlt' }))).status).toBe(422);
    expect(await sdk.holder.rejectDocument(id, { reasonCode: 'INCOMPLETE' })).toMatchObject({
      status: 'REJECTED',
      rejection: seen.rejection,
    });
    for (const refused of [
      sdk.holder.rejectDocument(id, { reasonCode: 'DUPLICATE' }),
      sdk.holder.acceptDocument(id),
      sdk.adminA.forwardDocument(id, { targetAuthorityId: 'amt-b', privateKey: keyA.privateJwk! }),
    ]) {
      const err = await problem(refused);
      expect([err.status, err.code]).toEqual([409, 'invalid-transition']);
    }
    expect(await historyOf(id)).toEqual([
      ['RECEIVED', 'citizen', null],
      ['ROUTED', 'system', null],
      ['ASSIGNED', 'official', null],
      ['REJECTED', 'official', 'INCOMPLETE'],
    ]);
    const event = await probe.waitFor('document.rejected', (e) => e.documentId === id);
    expect(event.data).toEqual({ documentId: id, authorityId: 'amt-a', reasonCode: 'INCOMPLETE', actorRole: 'official' });
  });

  it('lets an admin accept without a thread; accepting again is 200, rejecting or forwarding then 409', async () => {
    const { document } = await routedDocument(randomBytes(1_000));
    const accepted = await sdk.adminA.acceptDocument(document.id);
    expect(accepted.status).toBe('ACCEPTED');
    expect(await sdk.adminA.acceptDocument(document.id)).toEqual(accepted);
    for (const refused of [sdk.adminA.rejectDocument(document.id, { reasonCode: 'OTHER' })]) {
      expect((await problem(refused)).code).toBe('invalid-transition');
    }
    const forward = await problem(
      sdk.adminA.forwardDocument(document.id, {
        targetAuthorityId: 'amt-b',
        encryptedPayload: await encryptFor(randomBytes(10), keyB.publicJwk),
      }),
    );
    expect([forward.status, forward.code]).toEqual([409, 'invalid-transition']);
    expect(await historyOf(document.id)).toEqual([
      ['RECEIVED', 'citizen', null],
      ['ROUTED', 'system', null],
      ['ACCEPTED', 'admin', null],
    ]);
    await probe.waitFor('document.accepted', (e) => e.documentId === document.id && e.actorRole === 'admin');
  });

  it('forwards to the responsible authority: a payload its key opens and the original key does not, and the chain', async () => {
    const file = randomBytes(300_000);
    const { document } = await routedDocument(file);
    await claimedBy(sdk.holder, document.id);

    const result = await sdk.holder.forwardDocument(document.id, { targetAuthorityId: 'amt-b', privateKey: keyA.privateJwk! });
    expect(result.document).toMatchObject({ id: document.id, status: 'FORWARDED', forwardedTo: result.forwarded.id });
    const newId = result.forwarded.id;

    // the citizen sees both and the chain between them
    const mine = new Map((await sdk.citizen.listDocuments()).items.map((d) => [d.id, d]));
    expect(mine.get(document.id)).toMatchObject({ status: 'FORWARDED', authorityId: 'amt-a', forwardedTo: newId });
    expect(mine.get(newId)).toMatchObject({ authorityId: 'amt-b', forwardedFrom: document.id, referenceNumber: 'AZ-2026/4711' });

    // the target routes it; its official opens it with the target's key; the original's key cannot
    await pollUntil(async () => (await sdk.officialB.getDocument(newId)).status === 'ROUTED', { what: 'the forward ROUTED at amt-b' });
    const opened = await sdk.officialB.openDocument(newId, keyB.privateJwk!);
    expect(Buffer.compare(Buffer.from(opened.plaintext), file)).toBe(0);
    const container = new TextDecoder().decode(await sdk.officialB.getDocumentPayload(newId));
    await expect(decryptWith(container, keyA.privateJwk!)).rejects.toThrow();
    await expect(decryptWith(container, { ...keyA.privateJwk!, kid: keyB.kid })).rejects.toThrow();
    expect((await problem(sdk.holder.getDocument(newId))).status).toBe(404);

    // the new document has its own receipt, for the target and the re-encrypted payload
    const receipt = (await sdk.citizen.getDocumentReceipt(newId)).receipt;
    expect(receipt).toBe(result.forwarded.receipt);
    const verified = await verifyReceipt(receipt, new URL(`${p.gateway}/.well-known/jwks.json`), {
      issuer: p.gateway,
      expected: { documentId: newId, authorityId: 'amt-b', ...result.forwarded.payload },
    });
    expect(verified.claims.payloadKid).toBe(keyB.kid);

    // final: no second forward, no other decision
    expect(
      (await problem(sdk.holder.forwardDocument(document.id, { targetAuthorityId: 'amt-b', privateKey: keyA.privateJwk! }))).code,
    ).toBe('invalid-transition');
    expect((await problem(sdk.adminA.acceptDocument(document.id))).code).toBe('invalid-transition');
    expect(await historyOf(document.id)).toEqual([
      ['RECEIVED', 'citizen', null],
      ['ROUTED', 'system', null],
      ['ASSIGNED', 'official', null],
      ['FORWARDED', 'official', null],
    ]);
    expect((await historyOf(newId)).slice(0, 2)).toEqual([
      ['RECEIVED', 'official', null],
      ['ROUTED', 'system', null],
    ]);
    const event = await probe.waitFor('document.forwarded', (e) => e.documentId === document.id);
    expect(event.data).toEqual({
      documentId: document.id,
      authorityId: 'amt-a',
      forwardedToDocumentId: newId,
      targetAuthorityId: 'amt-b',
      actorRole: 'official',
    });
  });

  it('answers a repeated forward with the same Idempotency-Key with the first answer, creating one document', async () => {
    const { document } = await routedDocument(randomBytes(5_000));
    const container = await encryptFor(randomBytes(5_000), keyB.publicJwk);
    const key = randomUUID();
    const first = await sdk.adminA.forwardDocument(document.id, {
      targetAuthorityId: 'amt-b',
      encryptedPayload: container,
      idempotencyKey: key,
    });
    const again = await sdk.adminA.forwardDocument(document.id, {
      targetAuthorityId: 'amt-b',
      encryptedPayload: container,
      idempotencyKey: key,
    });
    expect(again).toEqual(first);
    const atB = (await sdk.citizen.listDocuments()).items.filter((d) => d.forwardedFrom === document.id);
    expect(atB.map((d) => d.id)).toEqual([first.forwarded.id]);
    // a container the target cannot open is refused like any upload
    const { document: other } = await routedDocument(randomBytes(1_000));
    const refused = await problem(
      sdk.adminA.forwardDocument(other.id, {
        targetAuthorityId: 'amt-b',
        encryptedPayload: await encryptFor(randomBytes(10), keyA.publicJwk),
      }),
    );
    expect([refused.status, refused.code]).toEqual([422, 'unknown-kid']);
    expect((await sdk.citizen.getDocument(other.id)).status).toBe('ROUTED');
  });

  it('answered every call as docs/openapi.json says', () => {
    const operations = expectResponsesMatchOpenApi(recorder, 12);
    expect(operations).toEqual(
      expect.arrayContaining([
        'GET /.well-known/jwks.json (getReceiptSigningKeys)',
        'GET /documents/{id}/receipt (getDocumentReceipt)',
        'GET /documents/{id}/history (getDocumentHistory)',
        'POST /documents/{id}/accept (acceptDocument)',
        'POST /documents/{id}/reject (rejectDocument)',
        'POST /documents/{id}/forward (forwardDocument)',
        'POST /documents (createDocument)',
      ]),
    );
  });
});
