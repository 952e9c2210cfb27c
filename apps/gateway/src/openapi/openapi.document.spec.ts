import type {
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  ReferenceObject,
  RequestBodyObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger';
import { buildOpenApiDocument } from './openapi.document';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Every public operation (plus the admin additions), with its success statuses. */
const CONTRACT: Array<[Method, string, string[]]> = [
  ['post', '/authorities', ['201']],
  ['get', '/authorities/{id}', ['200']],
  ['patch', '/authorities/{id}', ['200']],
  ['post', '/authorities/{id}/ingest-secret', ['200']],
  ['post', '/authorities/{id}/units', ['201']],
  ['get', '/authorities/{id}/keys', ['200']],
  ['post', '/authorities/{id}/keys', ['201']],
  ['delete', '/authorities/{id}/keys/{kid}', ['204']],
  ['get', '/authorities/{id}/routing-rules', ['200']],
  ['post', '/authorities/{id}/routing-rules', ['201']],
  ['put', '/authorities/{id}/routing-rules/{ruleId}', ['200']],
  ['delete', '/authorities/{id}/routing-rules/{ruleId}', ['204']],
  ['post', '/documents', ['201']],
  ['get', '/documents', ['200']],
  ['get', '/documents/{id}', ['200', '304']],
  ['get', '/documents/{id}/payload', ['200']],
  ['post', '/documents/{id}/threads', ['201']],
  ['get', '/threads', ['200']],
  ['get', '/threads/{id}', ['200']],
  ['post', '/threads/{id}/claim', ['200']],
  ['post', '/threads/{id}/release', ['200']],
  ['post', '/threads/{id}/close', ['200']],
  ['post', '/threads/{id}/messages', ['201']],
  ['get', '/threads/{id}/messages', ['200']],
  ['post', '/threads/{id}/appointment/confirm', ['200']],
  ['post', '/exports', ['202']],
  ['get', '/exports/{jobId}', ['200']],
  ['get', '/admin/unroutable-documents', ['200']],
  ['get', '/admin/dead-letters/{service}', ['200']],
  ['get', '/admin/dead-letters/{service}/{eventId}', ['200']],
  ['delete', '/admin/dead-letters/{service}/{eventId}', ['204']],
  ['post', '/admin/dead-letters/{service}/{eventId}/replay', ['200']],
];

const METHODS: Method[] = ['get', 'post', 'put', 'patch', 'delete'];
const TAGS = ['Authorities', 'Documents', 'Threads', 'Exports', 'Operations'];

function isRef(value: object): value is ReferenceObject {
  return '$ref' in value;
}

/** Resolves a local `#/components/...` reference. */
function resolve<T extends object>(doc: OpenAPIObject, value: T | ReferenceObject): T {
  if (!isRef(value)) return value;
  const target = value.$ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
  if (target === undefined) throw new Error(`unresolved ${value.$ref}`);
  return target as T;
}

function allOperations(doc: OpenAPIObject): Array<[Method, string, OperationObject]> {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method): Array<[Method, string, OperationObject]> => {
      const op = item[method];
      return op ? [[method, path, op]] : [];
    }),
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

function schemaOf(doc: OpenAPIObject, name: string): SchemaObject {
  const schema = doc.components?.schemas?.[name];
  if (!schema) throw new Error(`no schema ${name}`);
  return resolve(doc, schema);
}

function property(doc: OpenAPIObject, schema: string, prop: string): SchemaObject {
  const value = schemaOf(doc, schema).properties?.[prop];
  if (!value) throw new Error(`no property ${schema}.${prop}`);
  return resolve(doc, value);
}

describe('buildOpenApiDocument', () => {
  const doc = buildOpenApiDocument();

  it('is an OpenAPI 3.0.3 document for /api/v1 with global bearer auth', () => {
    expect(doc.openapi).toBe('3.0.3');
    expect(doc.info.title).toBe('DirektVermittlungDe API');
    expect(doc.info.version).toBe('1.0.0');
    expect(doc.servers).toEqual([{ url: '/api/v1' }]);
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.components?.securitySchemes?.bearerAuth).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
  });

  it('summarises identity, access rule, rate limits, request ids and paging', () => {
    const description = doc.info.description ?? '';
    for (const term of [
      'dvd:official',
      'dvd:admin',
      'dvd:platform-admin',
      'citizen',
      'platform-admin',
      '404',
      'RATE_LIMIT_CITIZEN_PER_MIN',
      'RATE_LIMIT_OFFICIAL_PER_MIN',
      'RateLimit-Reset',
      'Retry-After',
      'X-Request-Id',
      'nextCursor',
    ]) {
      expect(description).toContain(term);
    }
  });

  it('is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it.each(CONTRACT)('has %s %s with its success statuses', (method, path, statuses) => {
    const op = doc.paths[path]?.[method];
    expect(op).toBeDefined();
    for (const status of statuses) expect(op?.responses[status]).toBeDefined();
  });

  it('has no operation that the contract does not list', () => {
    const listed = new Set(CONTRACT.map(([method, path]) => `${method} ${path}`));
    const extra = allOperations(doc).filter(([method, path]) => !listed.has(`${method} ${path}`));
    expect(extra).toEqual([]);
  });

  it('names, tags and describes every operation once', () => {
    const ids = allOperations(doc).map(([, , op]) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [, , op] of allOperations(doc)) {
      expect(op.operationId).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.tags).toHaveLength(1);
      expect(TAGS).toContain(op.tags?.[0]);
      expect(op.summary).toBeTruthy();
      expect(op.description).toContain('Who may call');
    }
  });

  it('declares 401, 429 and problem+json bodies for every error of every operation', () => {
    for (const [method, path, op] of allOperations(doc)) {
      const where = `${method} ${path}`;
      expect([where, op.responses['401']]).not.toEqual([where, undefined]);
      expect([where, op.responses['429']]).not.toEqual([where, undefined]);
      for (const [status, response] of Object.entries(op.responses)) {
        if (!response || Number(status) < 400) continue;
        const resolved = resolve<ResponseObject>(doc, response);
        expect([where, status, Object.keys(resolved.content ?? {})]).toEqual([where, status, ['application/problem+json']]);
        expect(resolved.content?.['application/problem+json']?.schema).toEqual({
          $ref: '#/components/schemas/Problem',
        });
      }
    }
  });

  it('puts X-Request-Id and the rate-limit headers on every response', () => {
    for (const [method, path, op] of allOperations(doc)) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (!response) continue;
        const headerNames = Object.keys(resolve<ResponseObject>(doc, response).headers ?? {});
        expect([method, path, status, headerNames]).toEqual([
          method,
          path,
          status,
          expect.arrayContaining(['X-Request-Id', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']),
        ]);
      }
    }
    const tooMany = resolve<ResponseObject>(doc, { $ref: '#/components/responses/TooManyRequests' });
    expect(Object.keys(tooMany.headers ?? {})).toContain('Retry-After');
  });

  it('sends Location with every 201 and 202', () => {
    for (const [, , op] of allOperations(doc)) {
      for (const status of ['201', '202']) {
        const response = op.responses[status];
        if (response) expect(resolve<ResponseObject>(doc, response).headers).toHaveProperty('Location');
      }
    }
  });

  it('declares every path template variable as a required path parameter', () => {
    for (const [method, path, op] of allOperations(doc)) {
      const expected = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      const declared = (op.parameters ?? []).map((p) => resolve<ParameterObject>(doc, p)).filter((p) => p.in === 'path');
      expect([method, path, declared.map((p) => p.name).sort()]).toEqual([method, path, expected]);
      for (const p of declared) expect(p.required).toBe(true);
    }
  });

  it('resolves every $ref', () => {
    for (const ref of collectRefs(doc)) {
      expect(() => resolve(doc, { $ref: ref })).not.toThrow();
    }
  });

  it('documents the required schemas', () => {
    const names = Object.keys(doc.components?.schemas ?? {});
    expect(names).toEqual(
      expect.arrayContaining([
        'Problem',
        'Authority',
        'AuthorityCreate',
        'AuthorityPatch',
        'Unit',
        'UnitCreate',
        'Jwk',
        'Jwks',
        'RoutingRule',
        'RoutingRuleInput',
        'DocumentMetadata',
        'Document',
        'DocumentPage',
        'ThreadCreate',
        'Thread',
        'ThreadPage',
        'MessageCreate',
        'Message',
        'MessagePage',
        'ExportCreate',
        'ExportJob',
        'ExportWebhook',
      ]),
    );
    expect(schemaOf(doc, 'Jwk').additionalProperties).toBe(true);
    expect(schemaOf(doc, 'DocumentMetadata').additionalProperties).toBe(false);
    expect(property(doc, 'Document', 'status').enum).toEqual(['RECEIVED', 'ROUTED', 'ASSIGNED', 'EXPORTED']);
    expect(property(doc, 'ExportJob', 'status').enum).toEqual(['PENDING', 'RUNNING', 'COMPLETED', 'FAILED']);
    expect(property(doc, 'ExportWebhook', 'type').enum).toEqual(['export.package']);
    const webhook = schemaOf(doc, 'ExportWebhook').description ?? '';
    for (const header of ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'Idempotency-Key']) {
      expect(webhook).toContain(header);
    }
  });

  it('uses patterns that accept and refuse what docs/api-conventions.md says', () => {
    const pattern = (schema: string, prop: string): RegExp => new RegExp(property(doc, schema, prop).pattern ?? '(?!)');
    const documentType = pattern('DocumentMetadata', 'documentType');
    expect(documentType.test('WOHNGELD_ANTRAG')).toBe(true);
    expect(documentType.test('wohngeld')).toBe(false);
    expect(documentType.test('A'.repeat(41))).toBe(false);
    expect(pattern('DocumentMetadata', 'serviceKey').test('99108008000000')).toBe(true);
    expect(pattern('DocumentMetadata', 'serviceKey').test('9910800800000')).toBe(false);
    expect(pattern('DocumentMetadata', 'regionKey').test('091620000000')).toBe(true);
    expect(pattern('RoutingRuleConditions', 'regionKeyPrefix').test('09162')).toBe(true);
    expect(pattern('RoutingRuleConditions', 'regionKeyPrefix').test('0916200000001')).toBe(false);
    const authorityId = pattern('AuthorityCreate', 'id');
    expect(authorityId.test('stadt-musterstadt')).toBe(true);
    expect(authorityId.test('a')).toBe(false);
    expect(pattern('UnitCreate', 'id').test('a')).toBe(true);
    const duration = pattern('AuthorityCreate', 'retentionPeriod');
    for (const valid of ['P180D', 'PT5S', 'P1Y6M', 'P2W', 'PT1H30M', 'P1DT12H']) {
      expect([valid, duration.test(valid)]).toEqual([valid, true]);
    }
    for (const invalid of ['P', 'PT', '180D', 'P1DT', 'p180d', '']) {
      expect([invalid, duration.test(invalid)]).toEqual([invalid, false]);
    }
    expect(pattern('AuthorityCreate', 'ingestSecret').test('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(true);
    expect(schemaOf(doc, 'RoutingRuleConditions').minProperties).toBe(1);
  });

  it('accepts multipart and JSON uploads with an Idempotency-Key', () => {
    const op = doc.paths['/documents'].post;
    const body = resolve<RequestBodyObject>(doc, op?.requestBody ?? { $ref: '#/missing' });
    expect(Object.keys(body.content)).toEqual(['multipart/form-data', 'application/json']);
    const multipart = schemaOf(doc, 'DocumentCreateMultipart');
    expect(Object.keys(multipart.properties ?? {})).toEqual(['metadata', 'encryptedPayload']);
    expect(property(doc, 'DocumentCreateMultipart', 'encryptedPayload').format).toBe('binary');
    expect(property(doc, 'DocumentCreateJson', 'encryptedPayload').format).toBe('byte');
    const headerNames = (op?.parameters ?? [])
      .map((p) => resolve<ParameterObject>(doc, p))
      .filter((p) => p.in === 'header')
      .map((p) => p.name);
    expect(headerNames).toContain('Idempotency-Key');
    expect(Object.keys(op?.responses ?? {})).toEqual(
      expect.arrayContaining(['201', '400', '401', '409', '413', '415', '422', '429', '503']),
    );
  });

  it('supports conditional GET of a document and a binary payload download', () => {
    const get = doc.paths['/documents/{id}'].get;
    const names = (get?.parameters ?? []).map((p) => resolve<ParameterObject>(doc, p).name);
    expect(names).toContain('If-None-Match');
    const payload = resolve<ResponseObject>(
      doc,
      doc.paths['/documents/{id}/payload'].get?.responses['200'] ?? {
        $ref: '#/missing',
      },
    );
    expect(Object.keys(payload.content ?? {})).toEqual(expect.arrayContaining(['application/jose', 'application/octet-stream']));
    expect(Object.keys(payload.headers ?? {})).toEqual(expect.arrayContaining(['ETag', 'Content-Length']));
  });

  it('pages lists with limit and cursor', () => {
    for (const path of ['/documents', '/threads', '/threads/{id}/messages', '/admin/unroutable-documents']) {
      const names = (doc.paths[path].get?.parameters ?? []).map((p) => resolve<ParameterObject>(doc, p).name);
      expect([path, names]).toEqual([path, expect.arrayContaining(['limit', 'cursor'])]);
    }
    const limit = resolve<ParameterObject>(doc, { $ref: '#/components/parameters/Limit' });
    expect(limit.schema).toMatchObject({ minimum: 1, maximum: 100, default: 20 });
  });
});
