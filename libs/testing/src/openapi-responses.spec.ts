import { join } from 'node:path';
import { OpenApiResponseValidator, ResponseRecorder } from './openapi-responses';

const validator = OpenApiResponseValidator.fromFile(join(__dirname, '..', '..', '..', 'docs', 'openapi.json'));
const ID = '0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10';
const document = {
  id: ID,
  status: 'ROUTED',
  referenceNumber: 'BA-2026/0815',
  authorityId: 'bauamt-x',
  documentType: 'BAUANTRAG',
  serviceKey: null,
  regionKey: null,
  unitId: 'bauaufsicht',
  createdAt: '2026-01-31T09:30:00.000Z',
  updatedAt: '2026-01-31T09:30:00.000Z',
  retentionDate: '2026-03-02T09:30:00.000Z',
  payload: { size: 1000, sha256: 'a'.repeat(64) },
  overdue: false,
  rejection: null,
  forwardedFrom: null,
  forwardedTo: null,
};
const getDocument = (status: number, body: unknown, contentType: string | null = 'application/json; charset=utf-8') =>
  validator.check({ method: 'GET', path: `/api/v1/documents/${ID}`, status, contentType, body });

describe('OpenApiResponseValidator (over docs/openapi.json)', () => {
  it('accepts a response that matches its operation’s schema', () => {
    expect(getDocument(200, document)).toEqual({ operation: 'GET /documents/{id} (getDocument)', violations: [] });
  });

  it('finds a public root route by its own server URL (the receipt keys at /.well-known/jwks.json)', () => {
    const keys = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc', kid: 'r1', alg: 'EdDSA', use: 'sig' }] };
    const check = (path: string, body: unknown) =>
      validator.check({ method: 'GET', path, status: 200, contentType: 'application/json', body });
    expect(check('/.well-known/jwks.json', keys)).toEqual({
      operation: 'GET /.well-known/jwks.json (getReceiptSigningKeys)',
      violations: [],
    });
    expect(check('/.well-known/jwks.json', { keys: [{ kty: 'OKP', d: 'private' }] }).violations).not.toEqual([]);
    expect(check('/api/v1/.well-known/jwks.json', keys).violations).toEqual([
      'GET /api/v1/.well-known/jwks.json → 200: no operation in the document matches',
    ]);
    expect(check('/elsewhere', keys).violations).toEqual(['GET /elsewhere → 200: path is not below the server URL /api/v1']);
  });

  it('accepts an official’s view with a null replyKey (what intake answers when the upload gave none), refuses a private one', () => {
    expect(getDocument(200, { ...document, replyKey: null }).violations).toEqual([]);
    expect(getDocument(200, { ...document, replyKey: { kty: 'EC', d: 'secret' } }).violations).not.toEqual([]);
  });

  it('reports a missing required field with the operation and the JSON path', () => {
    const { retentionDate: _dropped, ...withoutRetention } = document;
    expect(getDocument(200, withoutRetention).violations).toEqual([
      "GET /documents/{id} (getDocument) → 200 application/json: (body) must have required property 'retentionDate'",
    ]);
  });

  it('reports a wrong type, a bad format and a value outside an enum, each at its path', () => {
    const { violations } = getDocument(200, {
      ...document,
      unitId: 7,
      createdAt: 'yesterday',
      status: 'LOST',
      payload: { size: '1', sha256: 'x' },
    });
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.stringContaining('/unitId must be string,null'),
        expect.stringContaining('/createdAt must match format "date-time"'),
        expect.stringContaining('/status must be equal to one of the allowed values'),
        expect.stringContaining('/payload/size must be integer'),
        expect.stringContaining('/payload/sha256 must match pattern'),
      ]),
    );
  });

  it('checks problem+json error responses against the Problem schema (through $ref’d responses)', () => {
    const problem = { type: 'https://direktvermittlung.de/problems/not-found', title: 'Not Found', status: 404 };
    expect(getDocument(404, problem, 'application/problem+json').violations).toEqual([]);
    expect(getDocument(404, { ...problem, status: '404' }, 'application/problem+json').violations).toEqual([
      'GET /documents/{id} (getDocument) → 404 application/problem+json: /status must be integer',
    ]);
    // a problem served as plain JSON is not what the document promises
    expect(getDocument(404, problem, 'application/json').violations).toEqual([
      'GET /documents/{id} (getDocument) → 404: content type application/json not documented (documented: application/problem+json)',
    ]);
  });

  it('reports an undocumented status, an unknown path and a body where none is documented', () => {
    expect(getDocument(418, {}).violations).toEqual([
      expect.stringContaining('GET /documents/{id} (getDocument) → 418: status not documented'),
    ]);
    expect(validator.check({ method: 'GET', path: '/api/v1/nowhere', status: 200, contentType: null, body: undefined }).violations).toEqual(
      ['GET /api/v1/nowhere → 200: no operation in the document matches'],
    );
    const deleted = { method: 'DELETE', path: '/api/v1/authorities/a-1/keys/k1', status: 204, contentType: null, body: undefined };
    expect(validator.check(deleted).violations).toEqual([]);
    expect(validator.check({ ...deleted, contentType: 'application/json', body: { ok: true } }).violations).toEqual([
      'DELETE /authorities/{id}/keys/{kid} (retireAuthorityKey) → 204: documented without a body, but one was sent (application/json)',
    ]);
  });

  it('matches a query-carrying path and checks non-JSON bodies by content type only', () => {
    const page = validator.check({
      method: 'GET',
      path: '/api/v1/documents?status=ASSIGNED',
      status: 200,
      contentType: 'application/json',
      body: { items: [document], nextCursor: null },
    });
    expect(page).toEqual({ operation: 'GET /documents (listDocuments)', violations: [] });
    const payload = { method: 'GET', path: `/api/v1/documents/${ID}/payload`, status: 200, body: Buffer.from('x') };
    expect(validator.check({ ...payload, contentType: 'application/jose' }).violations).toEqual([]);
    expect(validator.check({ ...payload, contentType: 'text/html' }).violations).toEqual([
      expect.stringContaining('content type text/html not documented'),
    ]);
  });

  it('a recorder checks every recorded response and lists the operations it covered', () => {
    const recorder = new ResponseRecorder();
    recorder.record({ method: 'GET', path: `/api/v1/documents/${ID}`, status: 200, contentType: 'application/json', body: document });
    recorder.record({
      method: 'GET',
      path: `/api/v1/documents/${ID}`,
      status: 200,
      contentType: 'application/json',
      body: { ...document, id: 5 },
    });
    expect(recorder.checkAll(validator)).toEqual({
      operations: ['GET /documents/{id} (getDocument)'],
      violations: ['GET /documents/{id} (getDocument) → 200 application/json: /id must be string'],
    });
  });
});
