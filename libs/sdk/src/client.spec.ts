import { createHash } from 'node:crypto';
import { ROUTES } from '@dvd/contracts';
import { DvdClient } from './client';
import { DvdIntegrityError, DvdNetworkError, DvdProblemError } from './errors';
import { decryptWith } from './jwe';
import { generateAuthorityKeyPair, type KeyPair } from './keys';
import { byteDifference, randomBytes, webCryptoDecrypt } from './testing/webcrypto-jwe';
import type { DocumentMetadata, DvdDocument } from './types';

/**
 * The SDK's request building, against an injected `fetch` that records every request and
 * answers from a script (a unit test: no server behind it).
 */

const BASE = 'https://dvd.example/api/v1/';
const TOKEN = 'test-token';

interface Recorded {
  method: string;
  url: URL;
  headers: Headers;
  /** The body as sent (a streamed upload is read to its end, as a connection would). */
  body?: Uint8Array;
}

type Handler = (req: Recorded, index: number) => Response | Promise<Response>;

/** A `fetch` that records each request, reads its body, and answers with `handler` (which may throw). */
function stubFetch(handler: Handler) {
  const calls: Recorded[] = [];
  const fetchStub = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const req: Recorded = {
      method: init.method ?? 'GET',
      url: new URL(String(input)),
      headers: new Headers(init.headers),
      body: init.body == null ? undefined : new Uint8Array(await new Response(init.body).arrayBuffer()),
    };
    calls.push(req);
    return handler(req, calls.length - 1);
  };
  return { fetch: fetchStub as typeof fetch, calls };
}

const CALENDAR = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nSUMMARY:Termin bei Bürgeramt\r\nEND:VCALENDAR\r\n';
const calendar = (text: string) => new Response(text, { status: 200, headers: { 'content-type': 'text/calendar; charset=utf-8' } });
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const problem = (status: number, code: string, title: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ type: `https://direktvermittlung.de/problems/${code}`, title, status, ...extra }), {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });

const client = (fetchImpl: typeof fetch, o: { retries?: number } = {}) =>
  new DvdClient({ baseUrl: BASE, token: TOKEN, fetch: fetchImpl, retries: o.retries ?? 4, retryDelayMs: 1 });

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

async function failure<E extends Error>(p: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as E;
}

/** The parts of a multipart/form-data body, in order, parsed by the runtime's own parser. */
async function formParts(req: Recorded): Promise<Array<[string, Uint8Array]>> {
  const form = await new Response(req.body, { headers: { 'content-type': req.headers.get('content-type')! } }).formData();
  const parts: Array<[string, Uint8Array]> = [];
  for (const [name, value] of form.entries()) {
    parts.push([name, typeof value === 'string' ? new TextEncoder().encode(value) : new Uint8Array(await value.arrayBuffer())]);
  }
  return parts;
}

const METADATA: DocumentMetadata = { referenceNumber: 'AZ-2025-0001', authorityId: 'stadt-musterstadt', documentType: 'antrag' };

function documentFor(jweBytes: Uint8Array, o: { sha256?: string; size?: number } = {}): DvdDocument {
  return {
    id: '0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10',
    status: 'RECEIVED',
    overdue: false,
    referenceNumber: METADATA.referenceNumber,
    authorityId: METADATA.authorityId,
    documentType: METADATA.documentType,
    serviceKey: null,
    regionKey: null,
    unitId: null,
    createdAt: '2025-01-31T09:30:00Z',
    updatedAt: '2025-01-31T09:30:00Z',
    retentionDate: '2025-07-30T09:30:00Z',
    payload: { size: o.size ?? jweBytes.length, sha256: o.sha256 ?? sha256(jweBytes) },
    rejection: null,
    forwardedFrom: null,
    forwardedTo: null,
    receipt: 'h.p.s',
  } as DvdDocument;
}

// ── every route has its method ───────────────────────────────────────────────────────────

type Operation = { [K in keyof DvdClient]: DvdClient[K] extends (...args: never[]) => unknown ? K : never }[keyof DvdClient];

const AUTH = 'stadt-musterstadt';
const KID = 'kid/1 +ä'; // a value that must be percent-encoded in a path
const RULE = 'rule-7';
const DOC = '0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10';
const THREAD = '6f1b2c3d-0000-4000-8000-000000000001';
const EVENT = 'event 1';
const JOB = '6f1b2c3d-0000-4000-8000-0000000000aa';

/**
 * Placeholder arguments per operationId. The leading string arguments fill the path's
 * `{param}`s in order. A route of the contract without an entry here fails the test.
 */
const CALLS: { [K in Operation]?: Parameters<DvdClient[K]> } = {
  createAuthority: [{ id: AUTH, name: 'Stadt', ingestUrl: 'https://x.example/in', ingestSecret: 'whsec_AAAA', retentionPeriod: 'P180D' }],
  getAuthority: [AUTH],
  updateAuthority: [AUTH, { name: 'Stadt Musterstadt' }],
  rotateIngestSecret: [AUTH, { ingestSecret: 'whsec_BBBB' }],
  createUnit: [AUTH, { id: 'buergeramt', name: 'Bürgeramt' }],
  listAuthorityKeys: [AUTH],
  addAuthorityKey: [AUTH, { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1', alg: 'ECDH-ES+A256KW', use: 'enc' }],
  retireAuthorityKey: [AUTH, KID],
  listRoutingRules: [AUTH, { limit: 5 }],
  createRoutingRule: [AUTH, { priority: 1, conditions: {}, targetUnitId: 'buergeramt' }],
  replaceRoutingRule: [AUTH, RULE, { priority: 2, conditions: {}, targetUnitId: 'buergeramt' }],
  deleteRoutingRule: [AUTH, RULE],
  createDocument: [METADATA, 'h.k.i.c.t'],
  listDocuments: [{ limit: 5 }],
  getDocument: [DOC],
  getDocumentPayload: [DOC],
  rerouteDocument: [DOC],
  getDocumentReceipt: [DOC],
  getDocumentHistory: [DOC, { limit: 5 }],
  acceptDocument: [DOC],
  rejectDocument: [DOC, { reasonCode: 'INCOMPLETE', note: 'h.k.i.c.t' }],
  forwardDocument: [DOC, { targetAuthorityId: 'landkreis', encryptedPayload: 'h.k.i.c.t' }],
  getReceiptSigningKeys: [],
  listUnroutableDocuments: [{}],
  listDeadLetters: ['intake', {}],
  getDeadLetter: ['intake', EVENT],
  deleteDeadLetter: ['intake', EVENT],
  replayDeadLetter: ['intake', EVENT],
  createThread: [DOC, { type: 'CHAT' }],
  listThreads: [{ documentId: DOC }],
  getThread: [THREAD],
  claimThread: [THREAD],
  releaseThread: [THREAD],
  closeThread: [THREAD],
  confirmAppointment: [THREAD, { start: '2025-02-03T09:00:00Z' }],
  cancelAppointment: [THREAD],
  getAppointmentCalendar: [THREAD],
  postMessage: [THREAD, 'h.k.i.c.t'],
  listMessages: [THREAD, { limit: 5 }],
  createExport: [DOC],
  getExport: [JOB],
  streamEvents: [{ unitId: 'poststelle', lastEventId: '42' }],
  createEventTicket: [],
};

describe('DvdClient: one method per route of the contract', () => {
  it('has an entry in this table for every route, and nothing else', () => {
    const operations = ROUTES.map((r) => r.operationId);
    expect(operations.filter((op) => !(op in CALLS))).toEqual([]);
    expect(Object.keys(CALLS).filter((op) => !operations.includes(op))).toEqual([]);
    expect(new Set(operations).size).toBe(operations.length);
  });

  it.each(ROUTES.map((r) => [r.operationId, r] as const))('%s issues its method and path', async (operationId, route) => {
    const method = (client(stubFetch(() => json(200, {})).fetch) as unknown as Record<string, unknown>)[operationId];
    expect(typeof method).toBe('function');

    const args = CALLS[operationId as Operation] as unknown[] | undefined;
    if (!args) throw new Error(`no placeholder arguments for ${operationId}: add the route to CALLS (and its method to DvdClient)`);
    // a forward answers what it stored: the stub echoes the size and sha256 of the payload part
    const { fetch: fetchStub, calls } = stubFetch(async (req) => {
      if (operationId === 'getAppointmentCalendar') return calendar(CALENDAR);
      if (operationId !== 'forwardDocument') return json(200, { items: [], nextCursor: null });
      const payload = (await formParts(req)).find(([name]) => name === 'encryptedPayload')![1];
      return json(200, { document: {}, forwarded: { payload: { size: payload.length, sha256: sha256(payload) } } });
    });
    const sdk = client(fetchStub) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    await sdk[operationId](...args);

    expect(calls).toHaveLength(1);
    const [req] = calls;
    let at = 0;
    const path = route.path.replace(/\{(\w+)\}/g, () => encodeURIComponent(String(args[at++])));
    expect(req.method).toBe(route.method.toUpperCase());
    // a public route is served from the gateway's root, without a token
    const base = route.public ? BASE.replace(/\/api\/v1\/$/, '') : BASE.replace(/\/$/, '');
    expect(`${req.url.origin}${req.url.pathname}`).toBe(`${base}${path}`);
    expect(req.headers.get('authorization')).toBe(route.public ? null : `Bearer ${TOKEN}`);

    // a body where the contract takes one, of one of its media types; none where it takes none
    const body = route.request?.body;
    if (body) {
      expect(req.body).toBeDefined();
      expect(Object.keys(body.content)).toContain(req.headers.get('content-type')?.split(';')[0]);
    } else {
      expect(req.body).toBeUndefined();
    }
    const headers = route.request?.headers?.shape ?? {};
    for (const [name, schema] of Object.entries(headers)) {
      if (!(schema as { isOptional(): boolean }).isOptional()) expect(req.headers.get(name)).toBeTruthy();
    }
  });

  it('sends query parameters, leaving out undefined ones', async () => {
    const { fetch: fetchStub, calls } = stubFetch(() => json(200, { items: [], nextCursor: null }));
    await client(fetchStub).listDocuments({ limit: 5, cursor: undefined, status: 'ROUTED' });
    expect(Object.fromEntries(calls[0].url.searchParams)).toEqual({ limit: '5', status: 'ROUTED' });
    await client(fetchStub).listDocuments({ overdue: true });
    expect(Object.fromEntries(calls[1].url.searchParams)).toEqual({ overdue: 'true' });
  });
});

// ── calendar files ───────────────────────────────────────────────────────────────────────

describe('DvdClient: getAppointmentCalendar', () => {
  it('answers the calendar text exactly as sent (CRLF kept), asking for text/calendar', async () => {
    const { fetch: f, calls } = stubFetch(() => calendar(CALENDAR));
    expect(await client(f).getAppointmentCalendar(THREAD)).toBe(CALENDAR);
    expect(calls[0].headers.get('accept')).toBe('text/calendar, application/problem+json');
  });

  it('turns a 409 into a DvdProblemError with the code, without retrying', async () => {
    const { fetch: f, calls } = stubFetch(() => problem(409, 'appointment-not-confirmed', 'Conflict'));
    const err = await failure(client(f).getAppointmentCalendar(THREAD), DvdProblemError);
    expect([err.status, err.code, calls.length]).toEqual([409, 'appointment-not-confirmed', 1]);
  });

  it('refuses an answer that is no calendar, or too large to be one', async () => {
    const html = stubFetch(() => new Response('<html></html>', { status: 200, headers: { 'content-type': 'text/html' } }));
    await failure(client(html.fetch).getAppointmentCalendar(THREAD), DvdIntegrityError);
    const huge = stubFetch(() => calendar('X'.repeat(64 * 1024 + 1)));
    await failure(client(huge.fetch).getAppointmentCalendar(THREAD), DvdIntegrityError);
  });
});

// ── retries ──────────────────────────────────────────────────────────────────────────────

describe('DvdClient: retries', () => {
  const thread = { id: THREAD };

  it('retries a 503 with Retry-After: 0, and succeeds on the second request', async () => {
    const { fetch: f, calls } = stubFetch((_r, i) =>
      i === 0 ? problem(503, 'service-unavailable', 'Service Unavailable', {}, { 'retry-after': '0' }) : json(200, thread),
    );
    expect(await client(f).getThread(THREAD)).toEqual(thread);
    expect(calls).toHaveLength(2);
  });

  it('retries a 429, and succeeds on the second request', async () => {
    const { fetch: f, calls } = stubFetch((_r, i) =>
      i === 0 ? problem(429, 'too-many-requests', 'Too Many Requests', {}, { 'retry-after': '0' }) : json(200, thread),
    );
    expect(await client(f).claimThread(THREAD)).toEqual(thread);
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => c.method)).toEqual(['POST', 'POST']);
  });

  it('does not retry a 400: a DvdProblemError with the problem, its code and its errors', async () => {
    const errors = [{ field: 'body.text', message: 'Required' }];
    const { fetch: f, calls } = stubFetch(() =>
      problem(400, 'validation-failed', 'Request validation failed', { detail: 'one field', errors, requestId: 'req-1' }),
    );
    const err = await failure(client(f).getThread(THREAD), DvdProblemError);
    expect(calls).toHaveLength(1);
    expect(err.code).toBe('validation-failed');
    expect(err.status).toBe(400);
    expect(err.problem).toMatchObject({ status: 400, title: 'Request validation failed', detail: 'one field', errors, requestId: 'req-1' });
    expect(err.message).toBe('400 Request validation failed: one field');
  });

  it('surfaces a non-JSON error answer by its status line', async () => {
    const { fetch: f } = stubFetch(() => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    const err = await failure(client(f).getThread(THREAD), DvdProblemError);
    expect(err.problem).toEqual({ type: 'about:blank', title: 'Bad Gateway', status: 502 });
    expect(err.code).toBe('about:blank');
  });

  it('retries a network error on a GET', async () => {
    const { fetch: f, calls } = stubFetch((_r, i) => {
      if (i === 0) throw new TypeError('fetch failed');
      return json(200, thread);
    });
    expect(await client(f).getThread(THREAD)).toEqual(thread);
    expect(calls).toHaveLength(2);
  });

  it('does not retry a network error on a non-idempotent POST (postMessage): DvdNetworkError', async () => {
    const { fetch: f, calls } = stubFetch(() => {
      throw new TypeError('fetch failed');
    });
    const err = await failure(client(f).postMessage(THREAD, 'h.k.i.c.t'), DvdNetworkError);
    expect(calls).toHaveLength(1);
    expect(err.cause).toBeInstanceOf(TypeError);
    // …but it does retry a 503 there: the server says it did nothing
    const second = stubFetch((_r, i) => (i === 0 ? problem(503, 'service-unavailable', 'Service Unavailable') : json(201, { id: 'm1' })));
    expect(await client(second.fetch).postMessage(THREAD, 'h.k.i.c.t')).toEqual({ id: 'm1' });
    expect(second.calls).toHaveLength(2);
  });

  it('createDocument sends the same Idempotency-Key and the same payload on every retry', async () => {
    const jwe = 'eyJhbGciOiJSU0EtT0FFUC0yNTYifQ.a2V5.aXY.Y2lwaGVy.dGFn';
    const { fetch: f, calls } = stubFetch((_r, i) => {
      if (i === 0) return problem(503, 'service-unavailable', 'Service Unavailable', {}, { 'retry-after': '0' });
      if (i === 1) throw new TypeError('socket hang up');
      if (i === 2) return problem(409, 'idempotency-key-in-flight', 'In flight', {}, { 'retry-after': '0' });
      return json(201, documentFor(new TextEncoder().encode(jwe)));
    });
    await client(f).createDocument(METADATA, jwe);
    expect(calls).toHaveLength(4);
    const keys = calls.map((c) => c.headers.get('idempotency-key'));
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(keys)).toEqual(new Set([keys[0]]));
    for (const call of calls) {
      const parts = await formParts(call);
      expect(parts.map(([name]) => name)).toEqual(['metadata', 'encryptedPayload']);
      // the payload's length is declared, so that the platform can store it in one piece
      expect(JSON.parse(new TextDecoder().decode(parts[0][1]))).toEqual({ ...METADATA, payloadSize: jwe.length });
      expect(new TextDecoder().decode(parts[1][1])).toBe(jwe);
    }

    // a key given by the caller is the one sent
    const given = stubFetch(() => json(201, documentFor(new TextEncoder().encode(jwe))));
    await client(given.fetch).createDocument(METADATA, jwe, { idempotencyKey: 'my-key-1' });
    expect(given.calls[0].headers.get('idempotency-key')).toBe('my-key-1');
  });

  it('stops after `retries` retries, with the last answer', async () => {
    const { fetch: f, calls } = stubFetch(() => problem(503, 'service-unavailable', 'Service Unavailable', {}, { 'retry-after': '0' }));
    const err = await failure(client(f, { retries: 2 }).getThread(THREAD), DvdProblemError);
    expect(err.status).toBe(503);
    expect(calls).toHaveLength(3);

    const network = stubFetch(() => {
      throw new TypeError('fetch failed');
    });
    await failure(client(network.fetch, { retries: 3 }).getDocument(DOC), DvdNetworkError);
    expect(network.calls).toHaveLength(4);

    const none = stubFetch(() => problem(429, 'too-many-requests', 'Too Many Requests'));
    await failure(client(none.fetch, { retries: 0 }).getDocument(DOC), DvdProblemError);
    expect(none.calls).toHaveLength(1);
  });

  it('gives up at once when Retry-After is longer than maxRetryAfterMs', async () => {
    const { fetch: f, calls } = stubFetch(() => problem(503, 'service-unavailable', 'Service Unavailable', {}, { 'retry-after': '120' }));
    const err = await failure(client(f).getThread(THREAD), DvdProblemError);
    expect(err.retryAfterSeconds).toBe(120);
    expect(calls).toHaveLength(1);
  });
});

// ── send, download, progress ─────────────────────────────────────────────────────────────

describe('DvdClient: sendDocument and getDocumentPayload', () => {
  let authority: KeyPair;
  beforeAll(async () => {
    authority = await generateAuthorityKeyPair({ alg: 'RSA-OAEP-256' });
  }, 60_000);

  /** A platform that lists the authority's key and stores what it is sent (answering with `answer`). */
  function platform(answer: (jweBytes: Uint8Array) => DvdDocument) {
    return stubFetch(async (req) => {
      if (req.method === 'GET' && req.url.pathname === `/api/v1/authorities/${METADATA.authorityId}/keys`) {
        return json(200, { keys: [authority.publicJwk] });
      }
      if (req.method === 'POST' && req.url.pathname === '/api/v1/documents') {
        const parts = await formParts(req);
        return json(201, answer(parts.find(([name]) => name === 'encryptedPayload')![1]), { location: `/api/v1/documents/${DOC}` });
      }
      return problem(404, 'not-found', 'Not Found');
    });
  }

  it('encrypts for the authority key, uploads, and checks what was stored; the uploaded part decrypts to the file', async () => {
    const file = randomBytes(300_000);
    const { fetch: f, calls } = platform((jwe) => documentFor(jwe));
    const stages: string[] = [];
    const result = await client(f).sendDocument({ file, metadata: METADATA, onStage: (s) => stages.push(s) });
    expect(stages).toEqual(['keys', 'encrypting', 'uploading', 'verifying']);
    expect(calls.map((c) => `${c.method} ${c.url.pathname}`)).toEqual([
      `GET /api/v1/authorities/${METADATA.authorityId}/keys`,
      'POST /api/v1/documents',
    ]);

    const parts = await formParts(calls[1]);
    expect(parts.map(([name]) => name)).toEqual(['metadata', 'encryptedPayload']);
    const uploaded = parts[1][1];
    expect(JSON.parse(new TextDecoder().decode(parts[0][1]))).toEqual({ ...METADATA, payloadSize: uploaded.length });
    expect(result).toMatchObject({ kid: authority.kid, sha256: sha256(uploaded), idempotencyKey: calls[1].headers.get('idempotency-key') });
    expect(result.receipt).toBe('h.p.s');
    expect(result.document).not.toHaveProperty('receipt');

    const jwe = new TextDecoder().decode(uploaded);
    expect(jwe).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(byteDifference(await decryptWith(jwe, authority.privateJwk!), file)).toBeUndefined();
    expect(byteDifference((await webCryptoDecrypt(jwe, authority.privateJwk!)).plaintext, file)).toBeUndefined();
  });

  it('refuses an answer whose sha256 or size differs from the uploaded bytes: DvdIntegrityError', async () => {
    const bySha = platform((jwe) => documentFor(jwe, { sha256: sha256('other bytes') }));
    await failure(client(bySha.fetch).sendDocument({ file: 'Antrag', metadata: METADATA }), DvdIntegrityError);
    expect(bySha.calls).toHaveLength(2);
    const bySize = platform((jwe) => documentFor(jwe, { size: jwe.length - 1 }));
    await failure(client(bySize.fetch).sendDocument({ file: 'Antrag', metadata: METADATA }), DvdIntegrityError);
  });

  it('uses a given recipient key without asking for the key list', async () => {
    const { fetch: f, calls } = platform((jwe) => documentFor(jwe));
    const result = await client(f).sendDocument({ file: new Blob(['Antrag']), metadata: METADATA, recipientKey: authority.publicJwk });
    expect(calls.map((c) => c.method)).toEqual(['POST']);
    expect(result.kid).toBe(authority.kid);
  });

  it('reports upload progress: increasing `loaded`, ending at `total`, the bytes sent', async () => {
    const { fetch: f, calls } = platform((jwe) => documentFor(jwe));
    const progress: Array<{ loaded: number; total?: number }> = [];
    await client(f).sendDocument({ file: randomBytes(1024 * 1024), metadata: METADATA, onProgress: (p) => progress.push({ ...p }) });
    const sent = calls[1].body!.length;
    expect(progress.length).toBeGreaterThan(2);
    for (let i = 1; i < progress.length; i++) expect(progress[i].loaded).toBeGreaterThan(progress[i - 1].loaded);
    expect(progress.every((p) => p.total === sent)).toBe(true);
    expect(progress[progress.length - 1].loaded).toBe(sent);
  });

  it('getDocumentPayload checks the bytes against the expected sha256 and size', async () => {
    const bytes = randomBytes(70_000);
    const served = () => new Response(bytes, { status: 200, headers: { 'content-type': 'application/jose' } });
    const { fetch: f, calls } = stubFetch(served);
    const progress: number[] = [];
    const got = await client(f).getDocumentPayload(DOC, {
      expected: { size: bytes.length, sha256: sha256(bytes) },
      onProgress: (p) => progress.push(p.loaded),
    });
    expect(byteDifference(got, bytes)).toBeUndefined();
    expect(calls[0].url.pathname).toBe(`/api/v1/documents/${DOC}/payload`);
    expect(progress[progress.length - 1]).toBe(bytes.length);

    const mismatch = stubFetch(served);
    const err = await failure(
      client(mismatch.fetch).getDocumentPayload(DOC, { expected: { size: bytes.length, sha256: sha256('other') } }),
      DvdIntegrityError,
    );
    expect(err.message).toMatch(/does not match its recorded sha256/);
    expect(mismatch.calls).toHaveLength(1);

    const shorter = stubFetch(served);
    await failure(
      client(shorter.fetch).getDocumentPayload(DOC, { expected: { size: bytes.length + 1, sha256: sha256(bytes) } }),
      DvdIntegrityError,
    );

    // longer than recorded: an integrity failure at once, not a network error downloaded again and again
    for (const headers of [{ 'content-length': String(bytes.length) }, {}]) {
      const longer = stubFetch(() => new Response(bytes, { status: 200, headers: { 'content-type': 'application/jose', ...headers } }));
      const tooLong = await failure(
        client(longer.fetch).getDocumentPayload(DOC, { expected: { size: bytes.length - 1, sha256: sha256(bytes) } }),
        DvdIntegrityError,
      );
      expect(tooLong.message).toMatch(/larger than its recorded size/);
      expect(longer.calls).toHaveLength(1);
    }
  });

  it('getDocumentPayload downloads again when the stream breaks off', async () => {
    const bytes = randomBytes(50_000);
    const { fetch: f, calls } = stubFetch((_r, i) => {
      if (i > 0) return new Response(bytes, { status: 200, headers: { 'content-type': 'application/jose' } });
      const broken = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.subarray(0, 1000));
          controller.error(new TypeError('terminated'));
        },
      });
      return new Response(broken, { status: 200, headers: { 'content-type': 'application/jose' } });
    });
    const got = await client(f).getDocumentPayload(DOC, { expected: { size: bytes.length, sha256: sha256(bytes) } });
    expect(byteDifference(got, bytes)).toBeUndefined();
    expect(calls).toHaveLength(2);
  });
});

// ── forward and receipts ─────────────────────────────────────────────────────────────────

describe('DvdClient: forwardDocument with the private key', () => {
  let from: KeyPair;
  let to: KeyPair;
  beforeAll(async () => {
    [from, to] = await Promise.all([
      generateAuthorityKeyPair({ alg: 'ECDH-ES+A256KW' }),
      generateAuthorityKeyPair({ alg: 'ECDH-ES+A256KW' }),
    ]);
  });

  /** A platform holding one document encrypted for `from`; it stores the forward it is sent (answering `answer`). */
  async function platform(file: Uint8Array, answer = (sent: Uint8Array) => ({ size: sent.length, sha256: sha256(sent) })) {
    const { encryptFor } = await import('./jwe');
    const stored = new TextEncoder().encode(await encryptFor(file, from.publicJwk));
    const doc = documentFor(stored);
    return stubFetch(async (req) => {
      const path = req.url.pathname;
      if (req.method === 'GET' && path === `/api/v1/documents/${DOC}`) return json(200, doc);
      if (req.method === 'GET' && path === `/api/v1/documents/${DOC}/payload`) return new Response(stored, { status: 200 });
      if (req.method === 'GET' && path === '/api/v1/authorities/landkreis/keys') return json(200, { keys: [to.publicJwk] });
      if (req.method === 'POST' && path === `/api/v1/documents/${DOC}/forward`) {
        const parts = await formParts(req);
        const sent = parts.find(([name]) => name === 'encryptedPayload')![1];
        return json(200, {
          document: { ...doc, status: 'FORWARDED' },
          forwarded: { id: THREAD, authorityId: 'landkreis', payload: answer(sent), receipt: 'h.p.s' },
        });
      }
      return problem(404, 'not-found', 'Not Found');
    });
  }

  it('downloads, checks, decrypts, encrypts for the target key and uploads: the target opens it, the original key does not', async () => {
    const file = randomBytes(10_000);
    const { fetch: f, calls } = await platform(file);
    const result = await client(f).forwardDocument(DOC, { targetAuthorityId: 'landkreis', privateKey: from.privateJwk! });
    expect(result.forwarded.id).toBe(THREAD);
    expect(calls.map((c) => `${c.method} ${c.url.pathname}`)).toEqual([
      `GET /api/v1/documents/${DOC}`,
      `GET /api/v1/documents/${DOC}/payload`,
      'GET /api/v1/authorities/landkreis/keys',
      `POST /api/v1/documents/${DOC}/forward`,
    ]);
    const parts = await formParts(calls[3]);
    expect(parts.map(([name]) => name)).toEqual(['metadata', 'encryptedPayload']);
    expect(JSON.parse(new TextDecoder().decode(parts[0][1]))).toEqual({ targetAuthorityId: 'landkreis', payloadSize: parts[1][1].length });
    expect(calls[3].headers.get('idempotency-key')).toBeTruthy();
    const jwe = new TextDecoder().decode(parts[1][1]);
    expect(byteDifference(await decryptWith(jwe, to.privateJwk!), file)).toBeUndefined();
    await expect(decryptWith(jwe, { ...from.privateJwk!, kid: to.kid })).rejects.toThrow();
  });

  it('refuses when the platform stored other bytes than were sent', async () => {
    const { fetch: f } = await platform(randomBytes(100), () => ({ size: 1, sha256: sha256('other') }));
    await failure(client(f).forwardDocument(DOC, { targetAuthorityId: 'landkreis', privateKey: from.privateJwk! }), DvdIntegrityError);
  });
});

describe('verifyReceipt', () => {
  const claims = {
    iss: 'https://dvd.example',
    sub: DOC,
    authorityId: 'stadt-musterstadt',
    documentType: 'WOHNGELD_ANTRAG',
    payload: { size: 1234, sha256: 'a'.repeat(64) },
    payloadKid: 'k1',
  };
  let receipt: string;
  let jwks: { keys: Array<Record<string, unknown>> };

  beforeAll(async () => {
    const { SignJWT, exportJWK, generateKeyPair } = await import('jose');
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'r1', alg: 'EdDSA', use: 'sig' }] };
    receipt = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'dvd-receipt+jwt', kid: 'r1' })
      .setIssuedAt()
      .sign(pair.privateKey);
  });

  it('verifies a receipt against a JWK Set, and against the URL of one', async () => {
    const { verifyReceipt } = await import('./receipts');
    const verified = await verifyReceipt(receipt, jwks as never, {
      issuer: 'https://dvd.example',
      expected: { documentId: DOC, sha256: 'a'.repeat(64), size: 1234 },
    });
    expect(verified).toMatchObject({ kid: 'r1', alg: 'EdDSA', claims });
    const { fetch: f, calls } = stubFetch(() => json(200, jwks));
    expect((await verifyReceipt(receipt, 'https://dvd.example/.well-known/jwks.json', { fetch: f })).claims.sub).toBe(DOC);
    expect(calls[0].headers.get('authorization')).toBeNull();
  });

  it('refuses a changed byte, another issuer, another document, another typ', async () => {
    const { verifyReceipt } = await import('./receipts');
    const { DvdReceiptError } = await import('./errors');
    const [h, p, sig] = receipt.split('.');
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    for (const bad of [`${h}.${flip(p, 10)}.${sig}`, `${h}.${p}.${flip(sig, 5)}`, `${flip(h, 3)}.${p}.${sig}`]) {
      await failure(verifyReceipt(bad, jwks as never), DvdReceiptError);
    }
    await failure(verifyReceipt(receipt, jwks as never, { issuer: 'https://evil.example' }), DvdReceiptError);
    await failure(verifyReceipt(receipt, jwks as never, { expected: { documentId: THREAD } }), DvdReceiptError);
    const { SignJWT, generateKeyPair, exportJWK } = await import('jose');
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const keys = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'r2' }] };
    const asJwt = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: 'r2' }).setIssuedAt().sign(pair.privateKey);
    await failure(verifyReceipt(asJwt, keys as never), DvdReceiptError);
  });
});
