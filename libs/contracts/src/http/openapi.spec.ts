import { PROBLEM_TYPE_BASE } from './common-types';
import { buildOpenApiDocument } from './openapi';
import { RoutingRuleInputSchema, RoutingRuleSchema } from './rules';
import { ROUTES } from './routes';
import { ThreadCreateSchema } from './threads';
import { DocumentMetadataSchema } from './documents';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

function resolve(doc: Json, value: Json): Json {
  if (typeof value.$ref !== 'string') return value;
  const target = (value.$ref as string)
    .replace(/^#\//, '')
    .split('/')
    .reduce<Json | undefined>((node, key) => node?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  if (target === undefined) throw new Error(`unresolved ${value.$ref}`);
  return target;
}

function operations(doc: Json): Array<[string, string, Json]> {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    METHODS.flatMap((method): Array<[string, string, Json]> => (item[method] ? [[method, path, item[method]]] : [])),
  );
}

function collectRefs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((child) => collectRefs(child, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else collectRefs(value, found);
    }
  }
  return found;
}

describe('buildOpenApiDocument (generated from the contracts)', () => {
  const doc: Json = buildOpenApiDocument();
  const isPublic = (path: string) => ROUTES.some((route) => route.public && route.path === path);
  const schema = (name: string): Json => resolve(doc, doc.components.schemas[name] ?? { $ref: `#/missing/${name}` });
  const property = (name: string, prop: string): Json => resolve(doc, schema(name).properties[prop]);
  const pattern = (name: string, prop: string) => new RegExp(property(name, prop).pattern ?? '(?!)');

  it('is an OpenAPI 3.1 document for /api/v1 with a security scheme per issuer', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: 'DirektVermittlungDe API', version: '1.0.0' });
    expect(doc.servers).toEqual([{ url: '/api/v1' }]);
    expect(doc.components.securitySchemes).toMatchObject({
      citizenAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      officialAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    });
    for (const term of ['dvd:official', 'dvd:admin', 'dvd:platform-admin', 'RATE_LIMIT_CITIZEN_PER_MIN', 'Retry-After', 'nextCursor']) {
      expect(doc.info.description).toContain(term);
    }
  });

  it('has exactly the operations of the route registry, each once', () => {
    const documented = operations(doc).map(([method, path, op]) => `${method} ${path} ${op.operationId}`);
    const registered = ROUTES.map((route) => `${route.method} ${route.path} ${route.operationId}`);
    expect(documented.sort()).toEqual([...registered].sort());
    expect(new Set(registered.map((line) => line.split(' ')[2])).size).toBe(ROUTES.length);
  });

  it('secures each operation with the issuers and scopes of its roles', () => {
    const op = (method: string, path: string): Json => doc.paths[path][method];
    expect(op('post', '/documents').security).toEqual([{ citizenAuth: [] }]);
    expect(op('patch', '/authorities/{id}').security).toEqual([{ officialAuth: ['dvd:admin', 'dvd:platform-admin'] }]);
    expect(op('post', '/authorities').security).toEqual([{ officialAuth: ['dvd:platform-admin'] }]);
    expect(op('get', '/documents').security).toEqual([
      { citizenAuth: [] },
      { officialAuth: ['dvd:official', 'dvd:admin', 'dvd:platform-admin'] },
    ]);
    for (const [, path, operation] of operations(doc)) {
      if (isPublic(path)) continue;
      expect([path, operation.security.length > 0]).toEqual([path, true]);
    }
  });

  it('serves the receipt keys publicly from the root: no security, no 401 or 429, no rate limit headers', () => {
    const op = doc.paths['/.well-known/jwks.json'].get;
    expect(op.operationId).toBe('getReceiptSigningKeys');
    expect(op.security).toEqual([]);
    expect(op.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(Object.keys(op.responses)).toEqual(['200', '400', '503']);
    expect(Object.keys(op.responses['200'].headers)).toEqual(['X-Request-Id', 'Cache-Control']);
    expect(op.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ReceiptJwks' });
    expect(doc.components.schemas.ReceiptClaims).toBeDefined();
  });

  it('answers every error as problem+json with the Problem schema and examples of its problem types', () => {
    for (const [method, path, op] of operations(doc)) {
      const where = `${method} ${path}`;
      for (const status of isPublic(path) ? ['400', '503'] : ['401', '429', '503'])
        expect([where, status, op.responses[status] !== undefined]).toEqual([where, status, true]);
      for (const [status, raw] of Object.entries(op.responses as Json)) {
        if (Number(status) < 400) continue;
        const response = resolve(doc, raw);
        expect([where, status, Object.keys(response.content)]).toEqual([where, status, ['application/problem+json']]);
        const media = response.content['application/problem+json'];
        expect(media.schema).toEqual({ $ref: '#/components/schemas/Problem' });
        const examples = Object.values(media.examples as Json);
        expect([where, status, examples.length > 0]).toEqual([where, status, true]);
        for (const example of examples) {
          expect(example.value.type.startsWith(PROBLEM_TYPE_BASE)).toBe(true);
          expect([where, example.value.status]).toEqual([where, Number(status)]);
        }
      }
    }
    const conflict = resolve(doc, doc.paths['/threads/{id}/claim'].post.responses['409']);
    expect(Object.keys(conflict.content['application/problem+json'].examples)).toEqual(['thread-claimed', 'thread-closed']);
  });

  it('puts X-Request-Id and the RateLimit headers on every response, Retry-After on 429 and 503, Location on 201 and 202', () => {
    for (const [method, path, op] of operations(doc)) {
      for (const [status, raw] of Object.entries(op.responses as Json)) {
        const headers = Object.keys(resolve(doc, raw).headers ?? {});
        const expected = isPublic(path) ? ['X-Request-Id'] : ['X-Request-Id', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'];
        expect([method, path, status, headers]).toEqual([method, path, status, expect.arrayContaining(expected)]);
        if (['429', '503'].includes(status)) expect(headers).toContain('Retry-After');
        if (['201', '202'].includes(status)) expect(headers).toContain('Location');
      }
    }
    expect(Object.keys(doc.paths['/documents/{id}'].get.responses['200'].headers)).toContain('ETag');
    expect(doc.paths['/documents/{id}'].get.responses['304']).toBeDefined();
  });

  it('declares every path template variable as a required path parameter', () => {
    for (const [method, path, op] of operations(doc)) {
      const expected = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      const declared = ((op.parameters ?? []) as Json[]).map((p) => resolve(doc, p)).filter((p) => p.in === 'path');
      expect([method, path, declared.map((p) => p.name).sort()]).toEqual([method, path, expected]);
      for (const p of declared) expect(p.required).toBe(true);
    }
  });

  it('resolves every $ref', () => {
    for (const ref of collectRefs(doc)) expect(() => resolve(doc, { $ref: ref })).not.toThrow();
  });

  it('accepts multipart and JSON uploads with an Idempotency-Key, and serves the payload as binary', () => {
    const op = doc.paths['/documents'].post;
    expect(Object.keys(op.requestBody.content)).toEqual(['multipart/form-data', 'application/json']);
    expect(property('DocumentCreateMultipart', 'encryptedPayload').format).toBe('binary');
    expect(property('DocumentCreateJson', 'encryptedPayload').format).toBe('byte');
    const headers = (op.parameters as Json[]).map((p) => resolve(doc, p)).filter((p) => p.in === 'header');
    expect(headers.map((p) => p.name)).toEqual(expect.arrayContaining(['Idempotency-Key', 'X-Request-Id']));
    expect(Object.keys(op.responses)).toEqual(['201', '400', '401', '409', '413', '415', '422', '429', '503']);
    const payload = doc.paths['/documents/{id}/payload'].get.responses['200'];
    expect(Object.keys(payload.content)).toEqual(['application/jose', 'application/jose+json', 'application/octet-stream']);
    expect(Object.keys(payload.headers)).toEqual(expect.arrayContaining(['ETag', 'Content-Length']));
  });

  it('pages lists with limit (1–100, default 20) and cursor', () => {
    for (const path of [
      '/documents',
      '/threads',
      '/threads/{id}/messages',
      '/admin/unroutable-documents',
      '/authorities/{id}/routing-rules',
    ]) {
      const parameters = (doc.paths[path].get.parameters as Json[]).map((p) => resolve(doc, p));
      expect([path, parameters.map((p) => p.name)]).toEqual([path, expect.arrayContaining(['limit', 'cursor'])]);
      const limit = parameters.find((p) => p.name === 'limit') ?? {};
      expect([path, limit.schema]).toEqual([path, expect.objectContaining({ type: 'integer', minimum: 1, maximum: 100, default: 20 })]);
    }
  });

  it('documents the export delivery as a webhook with the Standard Webhooks headers and the package envelope', () => {
    const hook = doc.webhooks.exportPackage.post;
    const headers = (hook.parameters as Json[]).filter((p) => p.in === 'header').map((p) => p.name);
    expect(headers).toEqual(expect.arrayContaining(['webhook-id', 'webhook-timestamp', 'webhook-signature', 'Idempotency-Key']));
    for (const p of hook.parameters as Json[]) expect(p.required).toBe(true);
    expect(hook.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ExportWebhook' });
    expect(property('ExportWebhook', 'type').enum).toEqual(['export.package']);
    expect(schema('ExportWebhook').required).toEqual(['type', 'timestamp', 'data']);
  });

  it('keeps the shapes of the services: enums, required fields, bounds', () => {
    expect(schema('Jwk').additionalProperties).toBe(true);
    expect(schema('DocumentMetadata').additionalProperties).toBe(false);
    expect(property('Document', 'status').enum).toEqual([
      'RECEIVED',
      'ROUTED',
      'ASSIGNED',
      'EXPORTED',
      'ACCEPTED',
      'REJECTED',
      'FORWARDED',
    ]);
    expect(schema('RejectReasonCode').enum).toEqual(['NOT_RESPONSIBLE', 'INCOMPLETE', 'UNREADABLE', 'DUPLICATE', 'OTHER']);
    expect(property('Document', 'rejection').anyOf).toEqual([{ $ref: '#/components/schemas/Rejection' }, { type: 'null' }]);
    expect(property('ExportJob', 'status').enum).toEqual(['PENDING', 'RUNNING', 'COMPLETED', 'FAILED']);
    expect(property('RoutingRuleInput', 'priority')).toMatchObject({ type: 'integer', minimum: -1_000_000, maximum: 1_000_000 });
    expect(schema('RoutingRule').required).toEqual(expect.arrayContaining(['createdAt', 'updatedAt']));
    expect(schema('RoutingRuleConditions').minProperties).toBe(1);
    expect(property('Appointment', 'proposedSlots')).toMatchObject({ minItems: 1, maxItems: 20 });
    expect(property('Document', 'unitId').type).toEqual(['string', 'null']);
  });

  it('lets a nullable value be null: a nullable enum lists null, a nullable registered schema is an anyOf with null', () => {
    const nullableEnums: Array<[string, boolean]> = [];
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) return node.forEach((child, i) => walk(child, `${at}/${i}`));
      if (!node || typeof node !== 'object') return;
      const { type, enum: values } = node as Json;
      if (Array.isArray(type) && type.includes('null') && Array.isArray(values)) nullableEnums.push([at, values.includes(null)]);
      for (const [key, child] of Object.entries(node)) walk(child, `${at}/${key}`);
    };
    walk(doc, '#');
    expect(nullableEnums).toContainEqual(['#/components/schemas/ExportJob/properties/lastErrorCategory', true]);
    expect(nullableEnums.filter(([, hasNull]) => !hasNull)).toEqual([]);
    expect(property('Document', 'replyKey').anyOf).toEqual([{ $ref: '#/components/schemas/Jwk' }, { type: 'null' }]);
  });

  it('uses patterns that accept and refuse what docs/api-conventions.md says', () => {
    const documentType = pattern('DocumentMetadata', 'documentType');
    expect(documentType.test('WOHNGELD_ANTRAG')).toBe(true);
    expect(documentType.test('wohngeld')).toBe(false);
    expect(documentType.test('A'.repeat(41))).toBe(false);
    expect(pattern('DocumentMetadata', 'serviceKey').test('99108008000000')).toBe(true);
    expect(pattern('DocumentMetadata', 'serviceKey').test('9910800800000')).toBe(false);
    expect(pattern('DocumentMetadata', 'regionKey').test('091620000000')).toBe(true);
    expect(pattern('RoutingRuleConditions', 'regionKeyPrefix').test('09162')).toBe(true);
    expect(pattern('RoutingRuleConditions', 'regionKeyPrefix').test('0916200000001')).toBe(false);
    expect(pattern('AuthorityCreate', 'id').test('stadt-musterstadt')).toBe(true);
    expect(pattern('AuthorityCreate', 'id').test('a')).toBe(false);
    expect(pattern('UnitCreate', 'id').test('a')).toBe(true);
    const duration = pattern('AuthorityCreate', 'retentionPeriod');
    for (const valid of ['P180D', 'PT5S', 'P1Y6M', 'P2W', 'PT1H30M', 'P1DT12H'])
      expect([valid, duration.test(valid)]).toEqual([valid, true]);
    for (const invalid of ['P', 'PT', '180D', 'P1DT', 'p180d', '']) expect([invalid, duration.test(invalid)]).toEqual([invalid, false]);
    expect(pattern('AuthorityCreate', 'ingestSecret').test('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(true);
    const plain = pattern('DocumentMetadata', 'referenceNumber');
    expect(plain.test('WG-2025-000123')).toBe(true);
    for (const bad of ['a\nb', 'a\u202eb', 'a\u200bb', 'a\u0000b', 'a\ufeffb']) expect([bad, plain.test(bad)]).toEqual([bad, false]);
  });
});

describe('the contract schemas validate what the services validate', () => {
  const rule = { priority: 10, conditions: { documentType: 'WOHNGELD_ANTRAG' }, targetUnitId: 'buergeramt' };
  const slot = (hour: number) => ({
    start: `2025-01-31T${String(hour).padStart(2, '0')}:00:00Z`,
    end: `2025-01-31T${String(hour).padStart(2, '0')}:30:00Z`,
  });

  it('bounds the routing rule priority to ±1,000,000 and needs a condition', () => {
    expect(RoutingRuleInputSchema.safeParse(rule).success).toBe(true);
    expect(RoutingRuleInputSchema.safeParse({ ...rule, priority: -1_000_000 }).success).toBe(true);
    expect(RoutingRuleInputSchema.safeParse({ ...rule, priority: 1_000_001 }).success).toBe(false);
    expect(RoutingRuleInputSchema.safeParse({ ...rule, priority: 1.5 }).success).toBe(false);
    expect(RoutingRuleInputSchema.safeParse({ ...rule, conditions: {} }).success).toBe(false);
    expect(RoutingRuleInputSchema.safeParse({ ...rule, extra: 1 }).success).toBe(false);
    const stored = {
      ...rule,
      id: 'r1',
      authorityId: 'stadt-musterstadt',
      createdAt: '2025-01-31T09:30:00Z',
      updatedAt: '2025-01-31T09:30:00Z',
    };
    expect(RoutingRuleSchema.safeParse(stored).success).toBe(true);
    expect(RoutingRuleSchema.safeParse({ ...stored, createdAt: undefined }).success).toBe(false);
  });

  it('takes 1 to 20 proposed slots, each starting before it ends', () => {
    const appointment = (slots: unknown[]) => ({ type: 'APPOINTMENT', appointment: { proposedSlots: slots } });
    expect(ThreadCreateSchema.safeParse(appointment([slot(9)])).success).toBe(true);
    expect(ThreadCreateSchema.safeParse(appointment(Array.from({ length: 20 }, (_, i) => slot(i)))).success).toBe(true);
    expect(ThreadCreateSchema.safeParse(appointment(Array.from({ length: 21 }, (_, i) => slot(i % 24)))).success).toBe(false);
    expect(ThreadCreateSchema.safeParse(appointment([])).success).toBe(false);
    expect(ThreadCreateSchema.safeParse(appointment([{ start: slot(9).end, end: slot(9).start }])).success).toBe(false);
    expect(
      ThreadCreateSchema.safeParse({ type: 'CHAT', callback: { preferredFrom: slot(9).start, preferredTo: slot(9).end } }).success,
    ).toBe(false);
  });

  it('refuses control, bidirectional and zero-width characters in plain text', () => {
    const metadata = { referenceNumber: 'WG-2025-000123', authorityId: 'stadt-musterstadt', documentType: 'WOHNGELD_ANTRAG' };
    expect(DocumentMetadataSchema.safeParse(metadata).success).toBe(true);
    for (const bad of ['WG\n1', 'WG\u202e1', 'WG\u200b1', 'WG\u00851', '']) {
      expect([bad, DocumentMetadataSchema.safeParse({ ...metadata, referenceNumber: bad }).success]).toEqual([bad, false]);
    }
    expect(DocumentMetadataSchema.safeParse({ ...metadata, referenceNumber: 'x'.repeat(51) }).success).toBe(false);
    expect(DocumentMetadataSchema.safeParse({ ...metadata, unknown: 1 }).success).toBe(false);
  });
});
