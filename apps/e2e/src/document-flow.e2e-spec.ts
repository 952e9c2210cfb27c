import { createHash, randomBytes } from 'node:crypto';
import { ResponseRecorder, TestEncryptionKey, documentUpload, encryptCompact, makeEncryptionKey, pollUntil } from '@dvd/testing';
import { RunningPlatform, expectResponsesMatchOpenApi, startPlatform, gatewayClient } from './platform-process';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('a document from upload to routing, through the gateway only', () => {
  let p: RunningPlatform;
  let key: TestEncryptionKey;
  let tokens: Record<'platformAdmin' | 'admin' | 'official' | 'citizen' | 'otherCitizen', string>;

  // every response the tests get is checked against docs/openapi.json at the end
  const recorder = new ResponseRecorder();
  const call = (...args: Parameters<ReturnType<typeof gatewayClient>>) => gatewayClient(p.gateway, recorder)(...args);

  beforeAll(async () => {
    p = await startPlatform({ MAX_UPLOAD_BYTES: String(5 * 1024 * 1024) });
    tokens = {
      platformAdmin: await p.token({ role: 'platform-admin', authority: 'platform' }),
      admin: await p.token({ role: 'admin', authority: 'bauamt-x' }),
      official: await p.token({ role: 'official', authority: 'bauamt-x' }),
      citizen: await p.token({ role: 'citizen', sub: 'erika' }),
      otherCitizen: await p.token({ role: 'citizen', sub: 'max' }),
    };
  }, 150_000);

  afterAll(async () => {
    await p?.stop();
  });

  it('registers an authority, routes an encrypted upload to the right unit, and serves it back byte for byte', async () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    expect(
      (
        await call(tokens.platformAdmin, 'POST', '/authorities', {
          id: 'bauamt-x',
          name: 'Bauamt X',
          ingestUrl: 'https://eakte.example/in',
          ingestSecret: secret,
          retentionPeriod: 'P30D',
        })
      ).status,
    ).toBe(201);
    expect((await call(tokens.admin, 'POST', '/authorities/bauamt-x/units', { id: 'poststelle', name: 'Poststelle' })).status).toBe(201);
    expect((await call(tokens.admin, 'POST', '/authorities/bauamt-x/units', { id: 'bauaufsicht', name: 'Bauaufsicht' })).status).toBe(201);
    key = await makeEncryptionKey('bauamt-x-2026', 'rsa');
    expect((await call(tokens.admin, 'POST', '/authorities/bauamt-x/keys', key.publicJwk)).status).toBe(201);
    expect(
      (
        await call(tokens.admin, 'POST', '/authorities/bauamt-x/routing-rules', {
          priority: 1,
          conditions: { referenceNumberPrefix: 'BA-' },
          targetUnitId: 'bauaufsicht',
        })
      ).status,
    ).toBe(201);

    // the citizen's app fetches the authority's keys and encrypts for one of them
    const jwks = await call(tokens.citizen, 'GET', '/authorities/bauamt-x/keys');
    expect((jwks.body.keys as Array<{ kid: string }>).map((k) => k.kid)).toEqual(['bauamt-x-2026']);
    const jwe = await encryptCompact(key, 1_000_000);
    // intake learns keys from events: the upload succeeds once the key reached it
    const { body, contentType } = documentUpload(
      { referenceNumber: 'BA-2026/0815', authorityId: 'bauamt-x', documentType: 'BAUANTRAG' },
      jwe,
    );
    const created = await pollUntil(
      async () => {
        const r = await call(tokens.citizen, 'POST', '/documents', body, { 'content-type': contentType });
        return r.status === 201 ? r : null;
      },
      { what: 'upload accepted' },
    );
    const id = created.body.id as string;
    expect(created.headers.get('location')).toBe(`/api/v1/documents/${id}`);

    // a thread right after the 201, before any event reached communication (it asks intake)
    const thread = await call(tokens.citizen, 'POST', `/documents/${id}/threads`, {
      type: 'CALLBACK',
      callback: { preferredFrom: '2026-12-01T09:00:00Z', preferredTo: '2026-12-01T11:00:00Z' },
    });
    expect(thread.status).toBe(201);

    const routed = await pollUntil(
      async () => {
        const r = await call(tokens.citizen, 'GET', `/documents/${id}`);
        return r.body.status === 'ROUTED' ? r : null;
      },
      { what: 'document ROUTED' },
    );
    expect(routed.body.unitId).toBe('bauaufsicht');

    const download = await fetch(`${p.gateway}/api/v1/documents/${id}/payload`, {
      headers: { authorization: `Bearer ${tokens.official}` },
    });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-length')).toBe(String(jwe.length));
    const downloaded = Buffer.from(await download.arrayBuffer());
    expect(sha256(downloaded)).toBe(sha256(jwe));
    recorder.record({
      method: 'GET',
      path: `/api/v1/documents/${id}/payload`,
      status: download.status,
      contentType: download.headers.get('content-type'),
      body: downloaded,
    });

    expect((await call(tokens.otherCitizen, 'GET', `/documents/${id}`)).status).toBe(404);

    // an official claims the thread: the document becomes ASSIGNED
    expect((await call(tokens.official, 'POST', `/threads/${thread.body.id as string}/claim`)).status).toBe(200);
    const message = await call(tokens.official, 'POST', `/threads/${thread.body.id as string}/messages`, {
      contentBlob: await encryptCompact(key, 500),
    });
    expect(message.status).toBe(201);
    await pollUntil(async () => (await call(tokens.citizen, 'GET', `/documents/${id}`)).body.status === 'ASSIGNED', {
      what: 'document ASSIGNED',
    });
    const messages = await call(tokens.citizen, 'GET', `/threads/${thread.body.id as string}/messages`);
    expect((messages.body.items as Array<{ id: string }>).map((m) => m.id)).toEqual([message.body.id]);
    const inbox = await call(tokens.official, 'GET', '/documents?status=ASSIGNED');
    expect((inbox.body.items as Array<{ id: string }>).map((d) => d.id)).toContain(id);
  });

  it('refuses a plaintext file and an oversized upload through the gateway', async () => {
    const pdf = documentUpload(
      { referenceNumber: 'BA-1', authorityId: 'bauamt-x', documentType: 'BAUANTRAG' },
      Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(1000)]),
    );
    const refused = await call(tokens.citizen, 'POST', '/documents', pdf.body, { 'content-type': pdf.contentType });
    expect(refused.status).toBe(422);
    expect(refused.body.type).toContain('not-a-jwe');
    const big = documentUpload(
      { referenceNumber: 'BA-1', authorityId: 'bauamt-x', documentType: 'BAUANTRAG' },
      await encryptCompact(key, 4 * 1024 * 1024),
    );
    const tooLarge = await call(tokens.citizen, 'POST', '/documents', big.body, { 'content-type': big.contentType });
    expect(tooLarge.status).toBe(413);
  });

  it('answers a request without a valid token with 401 problem+json', async () => {
    const refused = await call('not-a-token', 'GET', '/documents');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
  });

  it('every response above, errors included, matches the generated OpenAPI document', () => {
    expect(recorder.responses.length).toBeGreaterThan(15);
    expect(expectResponsesMatchOpenApi(recorder, 13)).toEqual(
      expect.arrayContaining([
        'POST /documents (createDocument)',
        'GET /documents/{id}/payload (getDocumentPayload)',
        'GET /threads/{id}/messages (listMessages)',
      ]),
    );
  });
});
