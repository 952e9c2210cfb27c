import type {
  HeaderObject,
  MediaTypeObject,
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  PathItemObject,
  ReferenceObject,
  RequestBodyObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger';

/**
 * The hand-written OpenAPI 3.0.3 document of the public API (conventions in docs/api-conventions.md),
 * served by the gateway at /api/docs (JSON at /api/docs-json). Paths are relative to
 * the server URL `/api/v1`. Keep it in step with the controllers: the spec beside this file
 * checks that every path and method of the contract is here.
 */

const JSON_TYPE = 'application/json';
const PROBLEM_JSON = 'application/problem+json';
const MIB = 1024 * 1024;

// ---------------------------------------------------------------------------------------
// Names of the components, so that a reference to a missing one does not compile.
// ---------------------------------------------------------------------------------------

type SchemaName =
  | 'Problem'
  | 'FieldError'
  | 'Authority'
  | 'AuthorityCreate'
  | 'AuthorityPatch'
  | 'IngestSecretInfo'
  | 'IngestSecretRotation'
  | 'IngestSecretList'
  | 'Unit'
  | 'UnitCreate'
  | 'Jwk'
  | 'Jwks'
  | 'RoutingRuleConditions'
  | 'RoutingRule'
  | 'RoutingRuleInput'
  | 'RoutingRulePage'
  | 'DocumentMetadata'
  | 'DocumentCreateJson'
  | 'DocumentCreateMultipart'
  | 'Document'
  | 'DocumentPage'
  | 'UnroutableDocument'
  | 'UnroutableDocumentPage'
  | 'Slot'
  | 'Callback'
  | 'Appointment'
  | 'ThreadCreate'
  | 'Thread'
  | 'ThreadPage'
  | 'AppointmentConfirm'
  | 'MessageCreate'
  | 'Message'
  | 'MessagePage'
  | 'ExportCreate'
  | 'ExportAccepted'
  | 'ExportJob'
  | 'ExportWebhook'
  | 'DeadLetter'
  | 'DeadLetterPage'
  | 'DeadLetterReplayed';

type HeaderName = 'X-Request-Id' | 'RateLimit-Limit' | 'RateLimit-Remaining' | 'RateLimit-Reset' | 'ETag' | 'Location' | 'Retry-After';

type ParameterName =
  | 'RequestId'
  | 'Limit'
  | 'Cursor'
  | 'AuthorityId'
  | 'Kid'
  | 'RuleId'
  | 'DocumentId'
  | 'ThreadId'
  | 'JobId'
  | 'IdempotencyKey'
  | 'IfNoneMatch';

type ProblemStatus = 400 | 401 | 404 | 409 | 413 | 415 | 422 | 429 | 503;

type Tag = 'Authorities' | 'Documents' | 'Threads' | 'Exports' | 'Operations';

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

function schemaRef(name: SchemaName): ReferenceObject {
  return { $ref: `#/components/schemas/${name}` };
}

function headerRef(name: HeaderName): ReferenceObject {
  return { $ref: `#/components/headers/${name}` };
}

function paramRef(name: ParameterName): ReferenceObject {
  return { $ref: `#/components/parameters/${name}` };
}

/** A cursor page `{ items, nextCursor }` of the given item schema. */
function page(item: SchemaName, description: string): SchemaObject {
  return {
    type: 'object',
    description,
    required: ['items', 'nextCursor'],
    additionalProperties: false,
    properties: {
      items: { type: 'array', items: schemaRef(item) },
      nextCursor: {
        type: 'string',
        nullable: true,
        description: 'Opaque cursor for the next page; `null` on the last page.',
      },
    },
  };
}

/** Headers on every response: the request id and the rate-limit state. */
function standardHeaders(...extra: HeaderName[]): Record<string, ReferenceObject> {
  const names: HeaderName[] = ['X-Request-Id', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', ...extra];
  return Object.fromEntries(names.map((name) => [name, headerRef(name)]));
}

/** A successful JSON response (or one without body when `body` is omitted). */
function success(description: string, body?: SchemaName, ...extraHeaders: HeaderName[]): ResponseObject {
  const response: ResponseObject = { description, headers: standardHeaders(...extraHeaders) };
  if (body) response.content = { [JSON_TYPE]: { schema: schemaRef(body) } };
  return response;
}

const PROBLEM_RESPONSES: Record<ProblemStatus, { component: string; description: string; headers: HeaderName[] }> = {
  400: {
    component: 'BadRequest',
    description:
      'The request is malformed or fails validation (unknown fields, wrong types, bad ' +
      'query parameters). `errors` lists the offending fields.',
    headers: [],
  },
  401: {
    component: 'Unauthorized',
    description:
      'No bearer token, or the token is invalid: bad signature, unknown issuer or `kid`, ' +
      'wrong audience, expired, missing `sub`/`iss`/`aud`/`exp`, a symmetric or `none` ' +
      'algorithm, or an authority-IdP token without `authority_id`.',
    headers: [],
  },
  404: {
    component: 'NotFound',
    description:
      'The resource does not exist, was purged, or is not visible to the caller (the ' +
      'API answers 404, never 403, so that ids cannot be probed).',
    headers: [],
  },
  409: {
    component: 'Conflict',
    description: 'The request conflicts with the current state of the resource.',
    headers: [],
  },
  413: {
    component: 'ContentTooLarge',
    description: 'The request body exceeds the size limit of this operation.',
    headers: [],
  },
  415: {
    component: 'UnsupportedMediaType',
    description: 'The request body has a media type this operation does not accept.',
    headers: [],
  },
  422: {
    component: 'UnprocessableContent',
    description: 'The request is well-formed but cannot be processed.',
    headers: [],
  },
  429: {
    component: 'TooManyRequests',
    description: 'The per-user rate limit (sliding window of 60 s) is exhausted; retry after ' + '`Retry-After` seconds.',
    headers: ['Retry-After'],
  },
  503: {
    component: 'ServiceUnavailable',
    description:
      'A backing service (database, broker, object storage, Redis or the owning ' +
      'service) is unavailable; nothing was changed. Retry after `Retry-After` seconds. The problem ' +
      '`type` ends in `/dependency-unavailable` when the owning service answered, and in ' +
      '`/upstream-unavailable` when the gateway could not reach it.',
    headers: ['Retry-After'],
  },
};

const PROBLEM_CONTENT: Record<string, MediaTypeObject> = {
  [PROBLEM_JSON]: { schema: schemaRef('Problem') },
};

/** An error status, optionally with a description specific to the operation. */
type ProblemSpec = ProblemStatus | [ProblemStatus, string];

/**
 * Error responses, all `application/problem+json`. A bare status refers to the shared
 * response component; `[status, description]` says what that status means here.
 */
function problems(...specs: ProblemSpec[]): Record<string, ResponseObject | ReferenceObject> {
  const responses: Record<string, ResponseObject | ReferenceObject> = {};
  for (const spec of specs) {
    const [status, description] = Array.isArray(spec) ? spec : [spec, undefined];
    const shared = PROBLEM_RESPONSES[status];
    responses[String(status)] = description
      ? { description, headers: standardHeaders(...shared.headers), content: PROBLEM_CONTENT }
      : { $ref: `#/components/responses/${shared.component}` };
  }
  return responses;
}

/** Errors every operation can answer: bad token, rate limit, backing service down. */
const ALWAYS: ProblemStatus[] = [401, 429, 503];

interface OperationSpec {
  id: string;
  tag: Tag;
  summary: string;
  /** Who may call it, in the words of docs/api-conventions.md. */
  who: string;
  description?: string;
  parameters?: (ParameterObject | ReferenceObject)[];
  body?: RequestBodyObject;
  responses: Record<string, ResponseObject>;
  errors?: ProblemSpec[];
}

function operation(spec: OperationSpec): OperationObject {
  const specific = problems(...(spec.errors ?? []));
  const common = problems(...ALWAYS.filter((status) => !(String(status) in specific)));
  const responses = { ...spec.responses, ...specific, ...common };
  const sorted = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));
  const op: OperationObject = {
    operationId: spec.id,
    tags: [spec.tag],
    summary: spec.summary,
    description: [`**Who may call:** ${spec.who}`, spec.description].filter((part): part is string => Boolean(part)).join('\n\n'),
    parameters: [...(spec.parameters ?? []), paramRef('RequestId')],
    responses: sorted,
  };
  if (spec.body) op.requestBody = spec.body;
  return op;
}

function jsonBody(schema: SchemaName, description?: string): RequestBodyObject {
  return { required: true, description, content: { [JSON_TYPE]: { schema: schemaRef(schema) } } };
}

function queryFilter(name: string, description: string, schema: SchemaObject): ParameterObject {
  return { name, in: 'query', required: false, description, schema };
}

function pathParam(name: string, description: string, schema: SchemaObject): ParameterObject {
  return { name, in: 'path', required: true, description, schema };
}

// ---------------------------------------------------------------------------------------
// Reusable value schemas
// ---------------------------------------------------------------------------------------

const AUTHORITY_ID: SchemaObject = {
  type: 'string',
  pattern: '^[a-z0-9-]{2,50}$',
  example: 'stadt-musterstadt',
};
const UNIT_ID: SchemaObject = { type: 'string', pattern: '^[a-z0-9-]{1,50}$', example: 'buergeramt' };
const UUID: SchemaObject = { type: 'string', format: 'uuid' };
const TIMESTAMP: SchemaObject = {
  type: 'string',
  format: 'date-time',
  description: 'RFC 3339, UTC.',
  example: '2025-01-31T09:30:00Z',
};
const DOCUMENT_TYPE: SchemaObject = {
  type: 'string',
  pattern: '^[A-Z0-9_]{1,40}$',
  example: 'WOHNGELD_ANTRAG',
};
const SERVICE_KEY: SchemaObject = {
  type: 'string',
  pattern: '^[0-9]{14}$',
  description: 'LeiKa service key (14 digits).',
  example: '99108008000000',
};
const REGION_KEY: SchemaObject = {
  type: 'string',
  pattern: '^[0-9]{12}$',
  description: 'Amtlicher Regionalschlüssel (ARS, 12 digits).',
  example: '091620000000',
};
/** The rule of plainText() in libs/platform (names, Aktenzeichen, prefixes). */
const PLAIN_TEXT = 'Single-line text: control, bidirectional and zero-width characters are refused (400).';
const REFERENCE_NUMBER: SchemaObject = {
  type: 'string',
  minLength: 1,
  maxLength: 50,
  description:
    'The Aktenzeichen (file reference). Personal data: never logged. No control, bidirectional or zero-width characters ' +
    '(U+0000–U+001F, U+007F–U+009F, U+061C, U+200B–U+200F, U+2028–U+202E, U+2060–U+2069, U+FEFF).',
  example: 'WG-2025-000123',
};
/** ISO 8601 duration with at least one component, e.g. `P180D`, `PT5S`, `P1Y6M`. */
const ISO_DURATION_PATTERN = '^P(?=\\d|T\\d)(\\d+Y)?(\\d+M)?(\\d+W)?(\\d+D)?(T(?=\\d)(\\d+H)?(\\d+M)?(\\d+(\\.\\d+)?S)?)?$';
const RETENTION_PERIOD: SchemaObject = {
  type: 'string',
  pattern: ISO_DURATION_PATTERN,
  description:
    'ISO 8601 duration after which a document and everything belonging to it is purged ' +
    "(`P180D`; `PT5S` is valid too). Each document's `retentionDate` is its creation " +
    'time plus this period.',
  example: 'P180D',
};
const INGEST_URL: SchemaObject = {
  type: 'string',
  format: 'uri',
  description:
    'Where export packages are delivered as Standard Webhooks messages (see `ExportWebhook`). ' +
    '`https` only, no credentials in the URL, and it must resolve to public addresses: loopback, ' +
    'private, link-local (incl. 169.254.169.254), unique-local, CGNAT, multicast and unspecified ' +
    'addresses are refused here (IP literals, `localhost`) and, after DNS resolution, at every delivery.',
  example: 'https://fachverfahren.musterstadt.de/dvd/ingest',
};
const INGEST_SECRET: SchemaObject = {
  type: 'string',
  writeOnly: true,
  pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$',
  description:
    'Standard Webhooks signing secret: `whsec_` followed by the base64 of 24–64 random ' +
    'bytes. Write-only: never returned; stored encrypted (AES-256-GCM).',
  example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
};
const JWE: SchemaObject = {
  type: 'string',
  description:
    'A JWE in compact serialization (or its JSON serialization as a string) with `alg` ' +
    '`RSA-OAEP-256`, `ECDH-ES` or `ECDH-ES+A256KW` and `enc` `A256GCM`. The server ' +
    'checks the structure only and never decrypts.',
};

const SLOT_PROPERTIES: Record<string, SchemaObject> = {
  start: TIMESTAMP,
  end: TIMESTAMP,
};

// ---------------------------------------------------------------------------------------
// Component schemas
// ---------------------------------------------------------------------------------------

const schemas: Record<SchemaName, SchemaObject> = {
  Problem: {
    type: 'object',
    description: 'An error (RFC 9457, `application/problem+json`). Never contains a stack trace or ' + 'personal input values.',
    required: ['type', 'title', 'status'],
    properties: {
      type: {
        type: 'string',
        format: 'uri',
        description: 'Stable URI per error code.',
        example: 'https://direktvermittlung.de/problems/validation-failed',
      },
      title: { type: 'string', example: 'Request validation failed' },
      status: { type: 'integer', minimum: 400, maximum: 599, example: 400 },
      detail: { type: 'string', example: 'metadata.documentType: does not match [A-Z0-9_]{1,40}' },
      instance: {
        type: 'string',
        format: 'uri-reference',
        description: 'The request path.',
        example: '/api/v1/documents',
      },
      requestId: { type: 'string', description: 'Same as the `X-Request-Id` response header.' },
      errors: {
        type: 'array',
        description: 'Field errors (validation problems only).',
        items: schemaRef('FieldError'),
      },
    },
  },
  FieldError: {
    type: 'object',
    required: ['field', 'message'],
    properties: {
      field: { type: 'string', description: 'Dotted path of the field.', example: 'metadata.referenceNumber' },
      message: { type: 'string', example: 'Required' },
    },
  },

  Authority: {
    type: 'object',
    description: 'An authority. `ingestUrl` and `ingestSecrets` only for its admins; the secrets themselves never.',
    required: ['id', 'name', 'units', 'retentionPeriod'],
    properties: {
      ingestUrl: { ...INGEST_URL, readOnly: true, description: 'Admins of the authority only.' },
      ingestSecrets: {
        type: 'array',
        maxItems: 2,
        readOnly: true,
        description: 'Admins of the authority only: the active ingest secrets (current first), without the secrets.',
        items: schemaRef('IngestSecretInfo'),
      },
      id: AUTHORITY_ID,
      name: { type: 'string', example: 'Stadt Musterstadt' },
      units: { type: 'array', items: schemaRef('Unit') },
      retentionPeriod: RETENTION_PERIOD,
      defaultUnitId: {
        ...UNIT_ID,
        nullable: true,
        description:
          'Where documents go that no routing rule matches. The first unit created ' +
          'becomes the default until changed; `null` while the authority has no unit.',
      },
    },
  },
  AuthorityCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'name', 'ingestUrl', 'ingestSecret', 'retentionPeriod'],
    properties: {
      id: AUTHORITY_ID,
      name: { type: 'string', minLength: 1, maxLength: 200, example: 'Stadt Musterstadt', description: PLAIN_TEXT },
      ingestUrl: INGEST_URL,
      ingestSecret: INGEST_SECRET,
      retentionPeriod: RETENTION_PERIOD,
    },
  },
  AuthorityPatch: {
    type: 'object',
    description: 'The fields to change; fields left out stay as they are.',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200, description: PLAIN_TEXT },
      ingestUrl: INGEST_URL,
      ingestSecret: INGEST_SECRET,
      retentionPeriod: RETENTION_PERIOD,
      defaultUnitId: { ...UNIT_ID, description: 'Must be a unit of this authority.' },
    },
  },
  IngestSecretInfo: {
    type: 'object',
    description: 'An active ingest secret, described; the secret itself is never returned.',
    required: ['id', 'createdAt', 'expiresAt'],
    properties: {
      id: UUID,
      createdAt: TIMESTAMP,
      expiresAt: {
        ...TIMESTAMP,
        nullable: true,
        description: '`null` for the current secret; for the previous one during a rotation, when it stops being used.',
      },
    },
  },
  IngestSecretRotation: {
    type: 'object',
    additionalProperties: false,
    required: ['ingestSecret'],
    properties: {
      ingestSecret: INGEST_SECRET,
      previousSecretExpiresAt: {
        ...TIMESTAMP,
        description: 'Until when the current secret keeps signing too (in the future, at most 30 days ahead). Default: 24 hours from now.',
      },
    },
  },
  IngestSecretList: {
    type: 'object',
    required: ['ingestSecrets'],
    properties: { ingestSecrets: { type: 'array', maxItems: 2, items: schemaRef('IngestSecretInfo') } },
  },
  Unit: {
    type: 'object',
    required: ['id', 'name'],
    properties: {
      id: UNIT_ID,
      name: { type: 'string', example: 'Bürgeramt' },
    },
  },
  UnitCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'name'],
    properties: {
      id: { ...UNIT_ID, description: 'Unique within the authority.' },
      name: { type: 'string', minLength: 1, maxLength: 200, example: 'Bürgeramt', description: PLAIN_TEXT },
    },
  },

  Jwk: {
    type: 'object',
    description:
      'A public JSON Web Key (RFC 7517). Private members (`d`, `p`, `q`, `dp`, `dq`, ' +
      '`qi`) must not be present. Authority encryption keys are RSA (≥ 3072 bit) with ' +
      '`alg` `RSA-OAEP-256`, or EC P-256/P-384 with `alg` `ECDH-ES+A256KW`, and carry ' +
      '`kid` and `use: "enc"`.',
    required: ['kty'],
    additionalProperties: true,
    not: {
      anyOf: ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((member) => ({ required: [member] })),
    },
    properties: {
      kty: { type: 'string', enum: ['RSA', 'EC'] },
      kid: { type: 'string', minLength: 1, maxLength: 200 },
      use: { type: 'string', enum: ['enc'] },
      alg: { type: 'string', example: 'RSA-OAEP-256' },
      n: { type: 'string', description: 'RSA modulus (base64url).' },
      e: { type: 'string', description: 'RSA public exponent (base64url).' },
      crv: { type: 'string', enum: ['P-256', 'P-384'] },
      x: { type: 'string', description: 'EC x coordinate (base64url).' },
      y: { type: 'string', description: 'EC y coordinate (base64url).' },
    },
    example: {
      kty: 'EC',
      kid: '2025-01-enc',
      use: 'enc',
      alg: 'ECDH-ES+A256KW',
      crv: 'P-256',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    },
  },
  Jwks: {
    type: 'object',
    description: "A JWK Set of the authority's active public encryption keys.",
    required: ['keys'],
    properties: { keys: { type: 'array', items: schemaRef('Jwk') } },
  },

  RoutingRuleConditions: {
    type: 'object',
    description: 'All given conditions must hold for the rule to match.',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      documentType: { ...DOCUMENT_TYPE, description: 'Exact match.' },
      serviceKey: { ...SERVICE_KEY, description: 'Exact match (LeiKa, 14 digits).' },
      regionKeyPrefix: {
        type: 'string',
        pattern: '^[0-9]{1,12}$',
        description: "Prefix of the document's 12-digit `regionKey` (ARS).",
        example: '09162',
      },
      referenceNumberPrefix: {
        type: 'string',
        minLength: 1,
        maxLength: 50,
        description: `Prefix of the document's \`referenceNumber\`, compared case-insensitively. ${PLAIN_TEXT}`,
        example: 'WG-',
      },
    },
  },
  RoutingRule: {
    type: 'object',
    required: ['id', 'authorityId', 'priority', 'conditions', 'targetUnitId'],
    properties: {
      id: { type: 'string', description: 'Opaque rule id.' },
      authorityId: AUTHORITY_ID,
      priority: {
        type: 'integer',
        description:
          'Rules are evaluated by ascending priority; the first match wins. Equal priorities: the rule created first wins (then the smaller id).',
      },
      conditions: schemaRef('RoutingRuleConditions'),
      targetUnitId: UNIT_ID,
    },
  },
  RoutingRuleInput: {
    type: 'object',
    additionalProperties: false,
    required: ['priority', 'conditions', 'targetUnitId'],
    properties: {
      priority: {
        type: 'integer',
        description:
          'Rules are evaluated by ascending priority; the first match wins. Equal priorities: the rule created first wins (then the smaller id).',
        example: 10,
      },
      conditions: schemaRef('RoutingRuleConditions'),
      targetUnitId: { ...UNIT_ID, description: 'Must be a unit of this authority.' },
    },
  },
  RoutingRulePage: page('RoutingRule', 'Routing rules in evaluation order.'),

  DocumentMetadata: {
    type: 'object',
    description: 'What the citizen declares about the document. Unknown fields → `400`.',
    additionalProperties: false,
    required: ['referenceNumber', 'authorityId', 'documentType'],
    properties: {
      referenceNumber: REFERENCE_NUMBER,
      authorityId: { ...AUTHORITY_ID, description: 'Must be a registered authority.' },
      documentType: DOCUMENT_TYPE,
      serviceKey: SERVICE_KEY,
      regionKey: REGION_KEY,
      replyKey: {
        allOf: [schemaRef('Jwk')],
        description: "The citizen's public JWK; officials encrypt replies to it.",
      },
    },
  },
  DocumentCreateJson: {
    type: 'object',
    description: 'Upload for small payloads: the whole body may be at most 10 MiB.',
    additionalProperties: false,
    required: ['metadata', 'encryptedPayload'],
    properties: {
      metadata: schemaRef('DocumentMetadata'),
      encryptedPayload: {
        type: 'string',
        format: 'byte',
        description: 'The encrypted container (a JWE, see `DocumentCreateMultipart`), base64-encoded.',
      },
    },
  },
  DocumentCreateMultipart: {
    type: 'object',
    description:
      'Streaming upload. The part `metadata` must come first, then `encryptedPayload`; ' +
      'the payload is streamed to object storage and never held in memory.',
    required: ['metadata', 'encryptedPayload'],
    properties: {
      metadata: {
        allOf: [schemaRef('DocumentMetadata')],
        description:
          'The metadata as JSON: a part of type `application/json` or a plain form field ' +
          'holding the JSON text. Must be the first part.',
      },
      encryptedPayload: {
        type: 'string',
        format: 'binary',
        description:
          'The encrypted container: a JWE (compact or JSON serialization) whose protected ' +
          'header has `alg` `RSA-OAEP-256`, `ECDH-ES` or `ECDH-ES+A256KW`, `enc` ' +
          '`A256GCM`, and a `kid` that is an active key of the target authority. At most ' +
          '`MAX_UPLOAD_BYTES` (default 100 MiB).',
      },
    },
  },
  Document: {
    type: 'object',
    required: [
      'id',
      'status',
      'referenceNumber',
      'authorityId',
      'documentType',
      'unitId',
      'createdAt',
      'updatedAt',
      'retentionDate',
      'payload',
    ],
    properties: {
      id: UUID,
      status: {
        type: 'string',
        enum: ['RECEIVED', 'ROUTED', 'ASSIGNED', 'EXPORTED'],
        description:
          '`RECEIVED` → `ROUTED` (the routing engine chose `unitId`) → `ASSIGNED` (an ' +
          'official claimed a thread of it) → `EXPORTED` (an export completed).',
      },
      referenceNumber: REFERENCE_NUMBER,
      authorityId: AUTHORITY_ID,
      documentType: DOCUMENT_TYPE,
      serviceKey: { ...SERVICE_KEY, nullable: true },
      regionKey: { ...REGION_KEY, nullable: true },
      unitId: { ...UNIT_ID, nullable: true, description: '`null` until the document is routed.' },
      createdAt: TIMESTAMP,
      updatedAt: TIMESTAMP,
      retentionDate: {
        ...TIMESTAMP,
        description: "Creation time plus the authority's `retentionPeriod`; the document is purged after it.",
      },
      payload: {
        type: 'object',
        required: ['size', 'sha256'],
        properties: {
          size: { type: 'integer', format: 'int64', minimum: 0, description: 'Bytes of the stored container.' },
          sha256: {
            type: 'string',
            pattern: '^[0-9a-f]{64}$',
            description: 'SHA-256 of the stored container, lowercase hex.',
          },
        },
      },
      replyKey: {
        allOf: [schemaRef('Jwk')],
        description: "The citizen's reply key, if given. Present only in responses to officials.",
      },
    },
  },
  DocumentPage: page('Document', 'A page of documents, newest first.'),
  UnroutableDocument: {
    type: 'object',
    description: 'A document the routing engine could not route (no matching rule and no default unit).',
    required: ['documentId', 'authorityId', 'receivedAt'],
    properties: {
      documentId: UUID,
      authorityId: AUTHORITY_ID,
      receivedAt: TIMESTAMP,
      reason: { type: 'string', nullable: true, example: 'authority has no default unit' },
    },
  },
  UnroutableDocumentPage: page('UnroutableDocument', 'A page of unroutable documents, newest first.'),
  DeadLetter: {
    type: 'object',
    description: 'An event a service gave up on. Ids, type, reason code and counts only; the event itself is never returned.',
    required: ['eventId', 'eventType', 'documentId', 'reason', 'detail', 'attempts', 'firstFailedAt', 'lastFailedAt', 'size', 'replayable'],
    properties: {
      eventId: UUID,
      eventType: { type: 'string', example: 'document.received' },
      documentId: { ...UUID, nullable: true },
      reason: { type: 'string', enum: ['handler-failed', 'malformed', 'delivery-limit'] },
      detail: {
        type: 'string',
        nullable: true,
        description: 'Error name and code, or the invalid fields.',
        example: 'QueryFailedError 23503',
      },
      attempts: { type: 'integer', minimum: 1 },
      firstFailedAt: TIMESTAMP,
      lastFailedAt: TIMESTAMP,
      size: { type: 'integer', description: 'Size of the message in bytes.' },
      replayable: { type: 'boolean', description: '`false` for a malformed message: its body was not kept.' },
    },
  },
  DeadLetterPage: page('DeadLetter', 'A page of dead letters, most recently failed first.'),
  DeadLetterReplayed: {
    type: 'object',
    required: ['eventId', 'status'],
    properties: { eventId: UUID, status: { type: 'string', enum: ['REPLAYED'] } },
  },

  Slot: {
    type: 'object',
    required: ['start', 'end'],
    properties: SLOT_PROPERTIES,
  },
  Callback: {
    type: 'object',
    description: 'When the citizen would like to be called back. The phone number travels only ' + 'inside an encrypted message.',
    required: ['preferredFrom', 'preferredTo'],
    properties: { preferredFrom: TIMESTAMP, preferredTo: TIMESTAMP },
  },
  Appointment: {
    type: 'object',
    required: ['proposedSlots', 'confirmedSlot'],
    properties: {
      proposedSlots: { type: 'array', minItems: 1, items: schemaRef('Slot') },
      confirmedSlot: {
        type: 'object',
        nullable: true,
        required: ['start', 'end'],
        properties: SLOT_PROPERTIES,
        description: 'The slot the citizen confirmed; `null` until then.',
      },
    },
  },
  ThreadCreate: {
    type: 'object',
    description:
      '`callback` is required for `CALLBACK` threads and `appointment` for `APPOINTMENT` ' +
      'threads; neither is allowed otherwise. Names, phone numbers and free text go only ' +
      'into encrypted messages.',
    additionalProperties: false,
    required: ['type'],
    properties: {
      type: { type: 'string', enum: ['CHAT', 'CALLBACK', 'APPOINTMENT'] },
      callback: schemaRef('Callback'),
      appointment: {
        type: 'object',
        additionalProperties: false,
        required: ['proposedSlots'],
        properties: {
          proposedSlots: { type: 'array', minItems: 1, items: schemaRef('Slot') },
        },
      },
    },
  },
  Thread: {
    type: 'object',
    required: ['id', 'documentId', 'type', 'status', 'assigned', 'lastActivityAt', 'createdAt'],
    properties: {
      id: UUID,
      documentId: UUID,
      type: { type: 'string', enum: ['CHAT', 'CALLBACK', 'APPOINTMENT'] },
      status: { type: 'string', enum: ['OPEN', 'CLOSED'] },
      assigned: { type: 'boolean', description: 'Whether an official has claimed the thread.' },
      assignedOfficialId: {
        type: 'string',
        nullable: true,
        description:
          'Officials only (never in answers to citizens): the `sub` of the official who claimed the thread; `null` when unassigned.',
      },
      lastActivityAt: TIMESTAMP,
      createdAt: TIMESTAMP,
      callback: { allOf: [schemaRef('Callback')], description: 'Only on `CALLBACK` threads.' },
      appointment: { allOf: [schemaRef('Appointment')], description: 'Only on `APPOINTMENT` threads.' },
    },
  },
  ThreadPage: page('Thread', 'A page of threads, newest first.'),
  AppointmentConfirm: {
    type: 'object',
    additionalProperties: false,
    required: ['start'],
    properties: {
      start: { ...TIMESTAMP, description: 'The `start` of one of the `proposedSlots`.' },
    },
  },
  MessageCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['contentBlob'],
    properties: {
      contentBlob: {
        ...JWE,
        description: `${JWE.description ?? ''} Any \`kid\` is accepted ` + "(replies are encrypted to the citizen's `replyKey`).",
      },
    },
  },
  Message: {
    type: 'object',
    required: ['id', 'threadId', 'senderRole', 'createdAt', 'contentBlob'],
    properties: {
      id: UUID,
      threadId: UUID,
      senderRole: { type: 'string', enum: ['citizen', 'official', 'admin', 'platform-admin'] },
      createdAt: TIMESTAMP,
      contentBlob: JWE,
    },
  },
  MessagePage: page('Message', 'A page of messages.'),

  ExportCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['documentId'],
    properties: { documentId: UUID },
  },
  ExportAccepted: {
    type: 'object',
    required: ['jobId', 'status'],
    properties: {
      jobId: UUID,
      documentId: UUID,
      status: {
        type: 'string',
        enum: ['PENDING', 'RUNNING', 'COMPLETED'],
        description: '`PENDING` for a new job (202); with 200, the status of the earlier job that answers the request.',
      },
    },
  },
  ExportJob: {
    type: 'object',
    required: ['jobId', 'documentId', 'status', 'attempts', 'lastError', 'createdAt', 'completedAt', 'receipt'],
    properties: {
      jobId: UUID,
      documentId: UUID,
      status: { type: 'string', enum: ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED'] },
      attempts: { type: 'integer', minimum: 0, description: 'Delivery attempts made so far.' },
      lastError: {
        type: 'string',
        nullable: true,
        description:
          "Why the last attempt failed, as a category (never the receiver's answer): `target-forbidden`, " +
          '`invalid-target`, `dns`, `timeout`, `connection-refused`, `connection-reset`, `tls`, `network`, ' +
          '`http-3xx` (redirects are not followed), `http-4xx`, `http-5xx`, `receipt-too-large`, ' +
          '`invalid-receipt`, `secret-unavailable`; after the last retry followed by ` (after <n> attempts)`. ' +
          '`null` if none failed.',
        example: 'http-5xx',
      },
      lastErrorCategory: {
        type: 'string',
        nullable: true,
        enum: [
          'payload-unreadable',
          'payload-mismatch',
          'messages-unavailable',
          'package-write-failed',
          'service-unavailable',
          'document-gone',
          'no-ingest-settings',
          'delivery-retryable',
          'delivery-rejected',
          'duplicate',
        ],
        description:
          'Why the last attempt failed, as a stable category (never raw error text); `null` if none failed or the job ' +
          'completed. Failures building the package (storage, communication, disk) and `delivery-retryable` are retried.',
      },
      createdAt: TIMESTAMP,
      completedAt: { ...TIMESTAMP, nullable: true, description: 'When the job completed or finally failed.' },
      receipt: {
        type: 'object',
        nullable: true,
        additionalProperties: true,
        description:
          "The authority's response body to the successful delivery, kept only if it is a JSON object of at " +
          'most 4 KiB nested at most 4 levels deep (a larger or other JSON answer fails the job).',
      },
    },
  },
  ExportWebhook: {
    type: 'object',
    description: [
      "The message the export worker POSTs to the authority's `ingestUrl` (a webhook; ",
      'OpenAPI 3.0 cannot declare webhooks, so it is documented here). It is a ',
      '[Standard Webhooks](https://www.standardwebhooks.com/) message, verifiable with ',
      'any Standard Webhooks library. Request headers:\n\n',
      '- `Content-Type: application/json`\n',
      '- `Idempotency-Key: <jobId>`\n',
      '- `X-DVD-Document-Id: <documentId>`\n',
      '- `webhook-id: <jobId>` (the same on every retry)\n',
      '- `webhook-timestamp: <unix seconds>`\n',
      '- `webhook-signature: v1,<base64 HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>">`, ',
      "keyed with the authority's `ingestSecret` (the base64-decoded bytes after `whsec_`); during a ",
      'secret rotation one space-separated `v1,<sig>` per active secret, current first\n\n',
      'The package is a ZIP holding `manifest.json` (document metadata, thread and message ',
      'metadata, sha256 of every file), `payload.jwe` (the encrypted container byte for ',
      'byte) and `messages.json` (every thread with its encrypted messages, oldest first).\n\n',
      'Redirects are not followed (a `3xx` fails the job). A `2xx` answer completes the job; a ',
      'JSON body must be an object of at most 4 KiB (kept as `receipt`), a larger one is cut off ',
      'and fails the job (`receipt-too-large`); `5xx`, ',
      '`408`, `429`, timeouts and network errors are retried with exponential backoff up to ',
      '`EXPORT_MAX_ATTEMPTS` (default 5), then the job is `FAILED`; any other `4xx` fails it at once.',
    ].join(''),
    required: ['type', 'timestamp', 'data'],
    properties: {
      type: { type: 'string', enum: ['export.package'] },
      timestamp: TIMESTAMP,
      data: {
        type: 'object',
        required: ['jobId', 'documentId', 'authorityId', 'package'],
        properties: {
          jobId: UUID,
          documentId: UUID,
          authorityId: AUTHORITY_ID,
          package: {
            type: 'object',
            required: ['contentType', 'size', 'sha256', 'base64'],
            properties: {
              contentType: { type: 'string', enum: ['application/zip'] },
              size: { type: 'integer', format: 'int64', minimum: 0, description: 'Bytes of the ZIP.' },
              sha256: {
                type: 'string',
                pattern: '^[0-9a-f]{64}$',
                description: 'SHA-256 of the ZIP, lowercase hex.',
              },
              base64: { type: 'string', format: 'byte', description: 'The ZIP, base64-encoded.' },
            },
          },
        },
      },
    },
  },
};

// ---------------------------------------------------------------------------------------
// Component headers and parameters
// ---------------------------------------------------------------------------------------

const headers: Record<HeaderName, HeaderObject> = {
  'X-Request-Id': {
    description:
      "The request id: the client's `X-Request-Id` if it sent a sane one " +
      '(`^[A-Za-z0-9._:-]{1,128}$`), otherwise a fresh UUID. Also in problem bodies as `requestId`.',
    schema: { type: 'string' },
  },
  'RateLimit-Limit': {
    description: 'Requests allowed per 60 s window for the caller.',
    schema: { type: 'integer', minimum: 0 },
  },
  'RateLimit-Remaining': {
    description: 'Requests left in the current window.',
    schema: { type: 'integer', minimum: 0 },
  },
  'RateLimit-Reset': {
    description: 'Seconds until the window allows requests again.',
    schema: { type: 'integer', minimum: 0 },
  },
  ETag: {
    description: 'Entity tag of the representation; send it back in `If-None-Match`.',
    schema: { type: 'string' },
  },
  Location: {
    description: 'URL of the created resource (or of the export job).',
    schema: { type: 'string', format: 'uri-reference' },
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying.',
    schema: { type: 'integer', minimum: 0 },
  },
};

const parameters: Record<ParameterName, ParameterObject> = {
  RequestId: {
    name: 'X-Request-Id',
    in: 'header',
    required: false,
    description:
      'Optional client-chosen request id, echoed in the response and logs if it matches ' +
      '`^[A-Za-z0-9._:-]{1,128}$` (otherwise replaced by a fresh one).',
    schema: { type: 'string', maxLength: 128 },
  },
  Limit: {
    name: 'limit',
    in: 'query',
    required: false,
    description: 'Page size.',
    schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
  },
  Cursor: {
    name: 'cursor',
    in: 'query',
    required: false,
    description: 'Opaque cursor from `nextCursor` of the previous page. Stable under inserts. Any other value is answered with 400.',
    schema: { type: 'string' },
  },
  AuthorityId: pathParam('id', 'Authority id.', AUTHORITY_ID),
  Kid: pathParam('kid', 'Key id (`kid`) of the key.', { type: 'string' }),
  RuleId: pathParam('ruleId', 'Routing rule id.', { type: 'string' }),
  DocumentId: pathParam('id', 'Document id.', UUID),
  ThreadId: pathParam('id', 'Thread id.', UUID),
  JobId: pathParam('jobId', 'Export job id.', UUID),
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description:
      'Makes the upload safe to retry (IETF *Idempotency-Key* header draft). The same key ' +
      'from the same citizen within 24 h returns the first response again and creates ' +
      'nothing new; the same key with a different body → `422`; a duplicate arriving ' +
      'while the first is still in flight → `409`.',
    schema: { type: 'string', minLength: 1, maxLength: 100 },
  },
  IfNoneMatch: {
    name: 'If-None-Match',
    in: 'header',
    required: false,
    description: 'An `ETag` from an earlier response; if it still matches, the answer is `304`.',
    schema: { type: 'string' },
  },
};

// ---------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------

const PAGING = [paramRef('Limit'), paramRef('Cursor')];

const authorityPaths: Record<string, PathItemObject> = {
  '/authorities': {
    post: operation({
      id: 'createAuthority',
      tag: 'Authorities',
      summary: 'Register an authority',
      who: 'platform-admin (`dvd:platform-admin`).',
      body: jsonBody('AuthorityCreate'),
      responses: { 201: success('The authority was registered.', 'Authority', 'Location') },
      errors: [400, [404, 'The caller is not a platform admin.'], [409, 'An authority with this id exists.']],
    }),
  },
  '/authorities/{id}': {
    get: operation({
      id: 'getAuthority',
      tag: 'Authorities',
      summary: 'Get an authority',
      who: 'any authenticated caller.',
      description:
        'Name, units, default unit and retention period; its admins also see `ingestUrl` and ' +
        '`ingestSecrets` (ids and validity only). Secrets are never returned.',
      parameters: [paramRef('AuthorityId')],
      responses: { 200: success('The authority.', 'Authority') },
      errors: [404],
    }),
    patch: operation({
      id: 'updateAuthority',
      tag: 'Authorities',
      summary: 'Change an authority',
      who: 'admin of the authority (`dvd:admin` with this `authority_id`).',
      description:
        'Changes `name`, `ingestUrl`, `ingestSecret`, `retentionPeriod` or ' + '`defaultUnitId`; fields left out stay as they are.',
      parameters: [paramRef('AuthorityId')],
      body: {
        required: true,
        content: {
          [JSON_TYPE]: { schema: schemaRef('AuthorityPatch') },
          'application/merge-patch+json': { schema: schemaRef('AuthorityPatch') },
        },
      },
      responses: { 200: success('The changed authority.', 'Authority') },
      errors: [400, 404, [422, '`defaultUnitId` is not a unit of this authority.']],
    }),
  },
  '/authorities/{id}/ingest-secret': {
    post: operation({
      id: 'rotateIngestSecret',
      tag: 'Authorities',
      summary: 'Rotate the ingest secret',
      who: 'admin of the authority.',
      description:
        'Makes `ingestSecret` the current secret. The previous current secret stays active until ' +
        '`previousSecretExpiresAt` (default 24 h), so deliveries carry a signature for each and a ' +
        'receiver can switch at any time in between; any older secret is dropped (at most two are ' +
        'active). `PATCH` with `ingestSecret` instead replaces every secret at once (after a leak).',
      parameters: [paramRef('AuthorityId')],
      body: jsonBody('IngestSecretRotation'),
      responses: { 200: success('The active secrets (never the secrets themselves).', 'IngestSecretList') },
      errors: [400, 404],
    }),
  },
  '/authorities/{id}/units': {
    post: operation({
      id: 'createUnit',
      tag: 'Authorities',
      summary: 'Add a unit',
      who: 'admin of the authority.',
      description: 'The first unit of an authority becomes its `defaultUnitId` until changed.',
      parameters: [paramRef('AuthorityId')],
      body: jsonBody('UnitCreate'),
      responses: { 201: success('The unit was created.', 'Unit', 'Location') },
      errors: [400, 404, [409, 'The authority already has a unit with this id.']],
    }),
  },
  '/authorities/{id}/keys': {
    get: operation({
      id: 'listAuthorityKeys',
      tag: 'Authorities',
      summary: "Get the authority's public encryption keys",
      who: 'any authenticated caller.',
      description:
        'The active public encryption keys as a JWKS; each key has `kid`, `use: "enc"` and ' +
        "`alg`. Citizens' apps encrypt payloads to one of them.",
      parameters: [paramRef('AuthorityId')],
      responses: { 200: success('The JWKS.', 'Jwks') },
      errors: [404],
    }),
    post: operation({
      id: 'addAuthorityKey',
      tag: 'Authorities',
      summary: 'Add a public encryption key',
      who: 'admin of the authority.',
      description:
        'Accepts an RSA key of at least 3072 bit with `alg` `RSA-OAEP-256`, or an EC ' +
        'P-256/P-384 key with `alg` `ECDH-ES+A256KW`. A private key is refused.',
      parameters: [paramRef('AuthorityId')],
      body: jsonBody('Jwk'),
      responses: { 201: success('The key was added and is active.', 'Jwk', 'Location') },
      errors: [
        [400, 'Not a well-formed public JWK (for example, it holds private key members).'],
        404,
        [409, 'The authority already has a key with this `kid`.'],
        [422, 'A key type, size, curve or `alg` that is not allowed.'],
      ],
    }),
  },
  '/authorities/{id}/keys/{kid}': {
    delete: operation({
      id: 'retireAuthorityKey',
      tag: 'Authorities',
      summary: 'Retire a key',
      who: 'admin of the authority.',
      description: 'The key is no longer offered, and new uploads encrypted to it are refused (`422`).',
      parameters: [paramRef('AuthorityId'), paramRef('Kid')],
      responses: { 204: success('The key was retired.') },
      errors: [404],
    }),
  },
  '/authorities/{id}/routing-rules': {
    get: operation({
      id: 'listRoutingRules',
      tag: 'Authorities',
      summary: 'List routing rules',
      who: 'admin or official of the authority.',
      description: 'Rules in evaluation order (ascending `priority`).',
      parameters: [paramRef('AuthorityId'), ...PAGING],
      responses: { 200: success('The rules.', 'RoutingRulePage') },
      errors: [400, 404],
    }),
    post: operation({
      id: 'createRoutingRule',
      tag: 'Authorities',
      summary: 'Add a routing rule',
      who: 'admin of the authority.',
      description:
        'Rules are evaluated by ascending `priority`; the first match wins; no match routes ' +
        'to `defaultUnitId`. A change takes effect for the next document at once, on every replica.',
      parameters: [paramRef('AuthorityId')],
      body: jsonBody('RoutingRuleInput'),
      responses: { 201: success('The rule was created.', 'RoutingRule', 'Location') },
      errors: [400, 404, [422, '`targetUnitId` is not a unit of this authority.']],
    }),
  },
  '/authorities/{id}/routing-rules/{ruleId}': {
    put: operation({
      id: 'replaceRoutingRule',
      tag: 'Authorities',
      summary: 'Replace a routing rule',
      who: 'admin of the authority.',
      parameters: [paramRef('AuthorityId'), paramRef('RuleId')],
      body: jsonBody('RoutingRuleInput'),
      responses: { 200: success('The replaced rule.', 'RoutingRule') },
      errors: [400, 404, [422, '`targetUnitId` is not a unit of this authority.']],
    }),
    delete: operation({
      id: 'deleteRoutingRule',
      tag: 'Authorities',
      summary: 'Remove a routing rule',
      who: 'admin of the authority.',
      parameters: [paramRef('AuthorityId'), paramRef('RuleId')],
      responses: { 204: success('The rule was removed.') },
      errors: [404],
    }),
  },
};

const documentPaths: Record<string, PathItemObject> = {
  '/documents': {
    post: operation({
      id: 'createDocument',
      tag: 'Documents',
      summary: 'Upload a document',
      who: 'citizen.',
      description: [
        'Send either `multipart/form-data` (part `metadata` first, then `encryptedPayload`, up ',
        `to \`MAX_UPLOAD_BYTES\`, default 100 MiB = ${100 * MIB} bytes, streamed to object `,
        'storage) or `application/json` with the payload base64-encoded (body up to 10 MiB).\n\n',
        '`encryptedPayload` must be a JWE whose protected header has an allowed `alg` ',
        '(`RSA-OAEP-256`, `ECDH-ES`, `ECDH-ES+A256KW`), `enc` `A256GCM` and a `kid` that is an ',
        'active key of the target authority. The server checks the structure only and never ',
        'decrypts. On any failure nothing is kept (no row, no object).\n\n',
        'The document is then routed asynchronously (`RECEIVED` → `ROUTED`).',
      ].join(''),
      parameters: [paramRef('IdempotencyKey')],
      body: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: schemaRef('DocumentCreateMultipart'),
            encoding: {
              metadata: { contentType: `${JSON_TYPE}, text/plain` },
              encryptedPayload: {
                contentType: 'application/jose, application/jose+json, application/octet-stream',
              },
            },
          },
          [JSON_TYPE]: { schema: schemaRef('DocumentCreateJson') },
        },
      },
      responses: {
        201: success('The document was stored. A replay of an `Idempotency-Key` returns the first response again.', 'Document', 'Location'),
      },
      errors: [
        [400, 'Malformed body or metadata, unknown metadata fields, or `metadata` not the first part.'],
        [409, 'A request with the same `Idempotency-Key` is still in flight.'],
        [413, 'The payload exceeds `MAX_UPLOAD_BYTES` (multipart) or the JSON body exceeds 10 MiB.'],
        [415, 'The body is neither `multipart/form-data` nor `application/json`.'],
        [
          422,
          'The payload is not an acceptable JWE (plaintext, malformed or truncated, a disallowed ' +
            '`alg`/`enc`, or a `kid` that is not an active key of the authority), the ' +
            'authority does not exist, or the `Idempotency-Key` was used with a different body.',
        ],
        [503, 'Object storage or the database is unavailable; nothing half-stored remains.'],
      ],
    }),
    get: operation({
      id: 'listDocuments',
      tag: 'Documents',
      summary: 'List documents',
      who: "citizen (their own documents) or official/admin (their authority's documents).",
      description: 'Newest first.',
      parameters: [
        ...PAGING,
        queryFilter('status', 'Only documents in this status.', {
          type: 'string',
          enum: ['RECEIVED', 'ROUTED', 'ASSIGNED', 'EXPORTED'],
        }),
        queryFilter('unitId', 'Only documents routed to this unit.', UNIT_ID),
      ],
      responses: { 200: success('A page of documents.', 'DocumentPage') },
      errors: [400],
    }),
  },
  '/documents/{id}': {
    get: operation({
      id: 'getDocument',
      tag: 'Documents',
      summary: 'Get a document',
      who: 'the citizen who uploaded it, or officials/admins of its authority.',
      description: 'Officials also see `replyKey`. Supports conditional requests with `If-None-Match`.',
      parameters: [paramRef('DocumentId'), paramRef('IfNoneMatch')],
      responses: {
        200: success('The document.', 'Document', 'ETag'),
        304: { description: 'Not modified since the given `ETag`.', headers: standardHeaders('ETag') },
      },
      errors: [404],
    }),
  },
  '/documents/{id}/payload': {
    get: operation({
      id: 'getDocumentPayload',
      tag: 'Documents',
      summary: 'Download the encrypted payload',
      who: 'the citizen who uploaded it, or officials/admins of its authority.',
      description: 'The encrypted container exactly as stored, streamed byte for byte.',
      parameters: [paramRef('DocumentId')],
      responses: {
        200: {
          description: 'The encrypted container.',
          headers: {
            ...standardHeaders('ETag'),
            'Content-Length': {
              description: 'Size of the container in bytes (equals `payload.size`).',
              schema: { type: 'integer', format: 'int64', minimum: 0 },
            },
          },
          content: {
            'application/jose': { schema: { type: 'string', format: 'binary' } },
            'application/jose+json': { schema: { type: 'string', format: 'binary' } },
            'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
          },
        },
      },
      errors: [404],
    }),
  },
  '/admin/unroutable-documents': {
    get: operation({
      id: 'listUnroutableDocuments',
      tag: 'Documents',
      summary: 'List documents that could not be routed',
      who: 'platform-admin.',
      description:
        'Documents the routing engine could not route (no rule matched and the authority ' +
        'has no default unit), by id, newest first. Ids only: no Aktenzeichen or other ' +
        'metadata. *Platform operations endpoint.*',
      parameters: [...PAGING],
      responses: { 200: success('A page of unroutable documents.', 'UnroutableDocumentPage') },
      errors: [400, [404, 'The caller is not a platform admin.']],
    }),
  },
};

const DEAD_LETTER_SERVICE = pathParam('service', 'The service whose event consumer dead-lettered the event.', {
  type: 'string',
  enum: ['intake', 'routing-engine', 'communication', 'export-worker'],
});
const DEAD_LETTER_ID = pathParam('eventId', 'The event id.', UUID);
const DEAD_LETTER_DESCRIPTION =
  'An event a service could not apply after `EVENT_MAX_DELIVERIES` attempts, or a malformed ' +
  "message, is kept in that service's database until it is replayed, deleted, or its document " +
  'is purged. *Platform operations endpoint.*';

const operationsPaths: Record<string, PathItemObject> = {
  '/admin/dead-letters/{service}': {
    get: operation({
      id: 'listDeadLetters',
      tag: 'Operations',
      summary: "List a service's dead letters",
      who: 'platform-admin.',
      description: DEAD_LETTER_DESCRIPTION,
      parameters: [DEAD_LETTER_SERVICE, ...PAGING],
      responses: { 200: success('A page of dead letters.', 'DeadLetterPage') },
      errors: [400, [404, 'The caller is not a platform admin, or the service is unknown.']],
    }),
  },
  '/admin/dead-letters/{service}/{eventId}': {
    get: operation({
      id: 'getDeadLetter',
      tag: 'Operations',
      summary: 'Get a dead letter',
      who: 'platform-admin.',
      parameters: [DEAD_LETTER_SERVICE, DEAD_LETTER_ID],
      responses: { 200: success('The dead letter.', 'DeadLetter') },
      errors: [404],
    }),
    delete: operation({
      id: 'deleteDeadLetter',
      tag: 'Operations',
      summary: 'Delete a dead letter',
      who: 'platform-admin.',
      parameters: [DEAD_LETTER_SERVICE, DEAD_LETTER_ID],
      responses: { 204: success('The dead letter was deleted.') },
      errors: [404],
    }),
  },
  '/admin/dead-letters/{service}/{eventId}/replay': {
    post: operation({
      id: 'replayDeadLetter',
      tag: 'Operations',
      summary: 'Replay a dead letter',
      who: 'platform-admin.',
      description:
        "Puts the stored event (same event id, so it is applied at most once) into the service's " +
        'outbox, addressed to its own queue only, and deletes the dead letter.',
      parameters: [DEAD_LETTER_SERVICE, DEAD_LETTER_ID],
      responses: { 200: success('The event is queued for delivery.', 'DeadLetterReplayed') },
      errors: [404, [409, 'The message was malformed; its body was not kept.']],
    }),
  },
};

const threadPaths: Record<string, PathItemObject> = {
  '/documents/{id}/threads': {
    post: operation({
      id: 'createThread',
      tag: 'Threads',
      summary: 'Open a thread on a document',
      who: 'the citizen who uploaded the document, or an official of its authority.',
      description:
        '`CALLBACK` threads carry `callback: { preferredFrom, preferredTo }`, `APPOINTMENT` ' +
        'threads `appointment: { proposedSlots }` (the citizen then confirms one).',
      parameters: [paramRef('DocumentId')],
      body: jsonBody('ThreadCreate'),
      responses: { 201: success('The thread was opened.', 'Thread', 'Location') },
      errors: [400, 404],
    }),
  },
  '/threads': {
    get: operation({
      id: 'listThreads',
      tag: 'Threads',
      summary: 'List threads',
      who: "citizen (threads on their own documents) or official/admin (their authority's threads).",
      description: 'Newest first.',
      parameters: [
        ...PAGING,
        queryFilter('documentId', 'Only threads of this document.', UUID),
        queryFilter('type', 'Only threads of this type.', {
          type: 'string',
          enum: ['CHAT', 'CALLBACK', 'APPOINTMENT'],
        }),
        queryFilter('status', 'Only threads in this status.', { type: 'string', enum: ['OPEN', 'CLOSED'] }),
        queryFilter('assigned', '`me`: claimed by the caller; `none`: unassigned.', {
          type: 'string',
          enum: ['me', 'none'],
        }),
      ],
      responses: { 200: success('A page of threads.', 'ThreadPage') },
      errors: [400],
    }),
  },
  '/threads/{id}': {
    get: operation({
      id: 'getThread',
      tag: 'Threads',
      summary: 'Get a thread',
      who: 'the parties: the citizen who owns the document, officials of its authority.',
      parameters: [paramRef('ThreadId')],
      responses: { 200: success('The thread.', 'Thread') },
      errors: [404],
    }),
  },
  '/threads/{id}/claim': {
    post: operation({
      id: 'claimThread',
      tag: 'Threads',
      summary: 'Claim a thread',
      who: "an official of the document's authority.",
      description:
        'Sets `assignedOfficialId` to the caller and moves the document to `ASSIGNED`. ' +
        'Claiming again as the same official answers `200`; of two racing claims exactly one wins.',
      parameters: [paramRef('ThreadId')],
      responses: { 200: success('The thread, now assigned to the caller.', 'Thread') },
      errors: [404, [409, 'Another official holds the thread, or the thread is closed.']],
    }),
  },
  '/threads/{id}/release': {
    post: operation({
      id: 'releaseThread',
      tag: 'Threads',
      summary: 'Release a thread',
      who: 'the assignee.',
      description: 'Sets `assignedOfficialId` back to `null`.',
      parameters: [paramRef('ThreadId')],
      responses: { 200: success('The thread, now unassigned.', 'Thread') },
      errors: [404, [409, 'The caller is not the assignee.']],
    }),
  },
  '/threads/{id}/close': {
    post: operation({
      id: 'closeThread',
      tag: 'Threads',
      summary: 'Close a thread',
      who: 'the assignee.',
      description: 'Sets `status: CLOSED`; nothing can be posted to it afterwards.',
      parameters: [paramRef('ThreadId')],
      responses: { 200: success('The closed thread.', 'Thread') },
      errors: [404, [409, 'The caller is not the assignee.']],
    }),
  },
  '/threads/{id}/appointment/confirm': {
    post: operation({
      id: 'confirmAppointment',
      tag: 'Threads',
      summary: 'Confirm an appointment slot',
      who: 'the citizen who owns the document.',
      description: 'Sets `appointment.confirmedSlot` to the proposed slot starting at `start`.',
      parameters: [paramRef('ThreadId')],
      body: jsonBody('AppointmentConfirm'),
      responses: { 200: success('The thread with the confirmed slot.', 'Thread') },
      errors: [
        400,
        404,
        [409, 'Not an `APPOINTMENT` thread, the thread is closed, or a slot is already confirmed.'],
        [422, '`start` is not the start of a proposed slot.'],
      ],
    }),
  },
  '/threads/{id}/messages': {
    post: operation({
      id: 'postMessage',
      tag: 'Threads',
      summary: 'Post a message',
      who: 'the citizen who owns the document, or the assignee.',
      description: 'The content is an encrypted `contentBlob`, checked like payloads but with any `kid`.',
      parameters: [paramRef('ThreadId')],
      body: jsonBody('MessageCreate'),
      responses: { 201: success('The message was posted.', 'Message', 'Location') },
      errors: [
        400,
        404,
        [409, 'The thread is closed, or the calling official is not the assignee.'],
        [413, 'The body exceeds 10 MiB.'],
        [422, '`contentBlob` is not an acceptable JWE.'],
      ],
    }),
    get: operation({
      id: 'listMessages',
      tag: 'Threads',
      summary: 'List messages',
      who: 'the parties: the citizen who owns the document, officials of its authority.',
      description:
        'Newest first; `cursor` pages towards older messages. With `?after=<messageId>` ' +
        'instead, returns the messages newer than that one, oldest first (for catching up; ' +
        'continue with `nextCursor`). `after` and `cursor` exclude each other.',
      parameters: [
        paramRef('ThreadId'),
        ...PAGING,
        queryFilter('after', 'Return the messages newer than this message, oldest first.', UUID),
      ],
      responses: { 200: success('A page of messages.', 'MessagePage') },
      errors: [[400, 'Bad paging parameters, or both `after` and `cursor` given.'], 404],
    }),
  },
};

const exportPaths: Record<string, PathItemObject> = {
  '/exports': {
    post: operation({
      id: 'createExport',
      tag: 'Exports',
      summary: 'Export a document to its authority',
      who: "an official of the document's authority.",
      description:
        'Queues a job that packages the document, its threads and messages and delivers it ' +
        "to the authority's `ingestUrl` as a Standard Webhooks message (see the " +
        '`ExportWebhook` schema). Poll the job at `Location`.\n\n' +
        '**One export at a time.** If the document already has a job that is `PENDING` or ' +
        '`RUNNING`, or one that `COMPLETED` less than `EXPORT_REPEAT_AFTER_MS` ago (default 1 h), ' +
        'no new job is queued: the answer is `200` with that job (its id, status and `Location`). ' +
        'Concurrent requests cannot race past this (a unique index decides). A `FAILED` job does ' +
        'not block a new request.',
      body: jsonBody('ExportCreate'),
      responses: {
        200: success(
          'An earlier job of the document answers the request (pending, running, or completed within the cool-down).',
          'ExportAccepted',
          'Location',
        ),
        202: success('A new job was queued.', 'ExportAccepted', 'Location'),
      },
      errors: [400, [404, 'The document does not exist or is not visible to the caller.']],
    }),
  },
  '/exports/{jobId}': {
    get: operation({
      id: 'getExport',
      tag: 'Exports',
      summary: 'Get an export job',
      who: "officials of the document's authority.",
      parameters: [paramRef('JobId')],
      responses: { 200: success('The job.', 'ExportJob') },
      errors: [404],
    }),
  },
};

// ---------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------

const DESCRIPTION = `End-to-end encrypted delivery of documents from citizens to German authorities.
Everything is served by the gateway under \`/api/v1\`. Field names are camelCase JSON; times are RFC 3339 UTC.

## Identity

Every request carries \`Authorization: Bearer <JWT>\`. The signature is verified against the
issuer's JWKS; \`iss\`, \`aud\` (\`AUTH_AUDIENCE\`, default \`dvd-api\`), \`exp\` and \`sub\` are
required, and only asymmetric algorithms are accepted (RS256, PS256, ES256, …; never \`none\`,
never HMAC). Anything else answers \`401\`.

| issuer | role | user id | extra claims |
|---|---|---|---|
| citizen IdP (BundID, \`CITIZEN_ISSUER\`) | \`citizen\` | \`sub\` | — |
| authority IdP (\`OFFICIAL_ISSUER\`) | \`official\`, \`admin\` or \`platform-admin\` | \`sub\` | \`authority_id\` (required), \`scope\` |

Scopes on authority-IdP tokens (space-separated \`scope\` claim):

- \`dvd:official\` (the default): works on the documents and threads of its \`authority_id\`;
- \`dvd:admin\` (role \`admin\`): also manages units, routing rules, keys and ingest settings of its own authority;
- \`dvd:platform-admin\` (role \`platform-admin\`): registers authorities.

**Access rule:** a citizen sees only what they created; an official or admin sees only what
belongs to their \`authority_id\`. Everything else answers \`404\` (never \`403\`), so that ids
cannot be probed.

## Errors

Errors are \`application/problem+json\` (RFC 9457, schema \`Problem\`) with a stable \`type\` URI
per error code, \`title\`, \`status\`, \`detail\`, \`instance\`, \`requestId\` and, for validation
errors, \`errors: [{ field, message }]\`. Never a stack trace.

## Request ids

Every response carries \`X-Request-Id\`: the client's own if it sent one that looks sane
(\`^[A-Za-z0-9._:-]{1,128}$\`), otherwise a fresh one. Quote it when reporting a problem.

## Rate limits

Per user, sliding window of 60 s, shared by all gateway replicas: citizens
\`RATE_LIMIT_CITIZEN_PER_MIN\` (default 10) requests, officials and admins
\`RATE_LIMIT_OFFICIAL_PER_MIN\` (default 1000). Every response carries \`RateLimit-Limit\`,
\`RateLimit-Remaining\` and \`RateLimit-Reset\`; over the limit the answer is \`429\` with \`Retry-After\`.

## Paging

Lists take \`?limit=\` (1–100, default 20) and \`?cursor=\` (opaque, from the previous page) and
answer \`{ "items": [...], "nextCursor": "..." | null }\`. Cursors are stable under inserts.

## Retention

Each document's \`retentionDate\` is its creation time plus its authority's \`retentionPeriod\`.
After it, the document, its payload, threads, messages and export jobs are deleted everywhere
and answer \`404\`.`;

export function buildOpenApiDocument(): OpenAPIObject {
  return {
    openapi: '3.0.3',
    info: {
      title: 'DirektVermittlungDe API',
      version: '1.0.0',
      description: DESCRIPTION,
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'Authorities', description: 'Authorities, units, encryption keys and routing rules (routing engine).' },
      { name: 'Documents', description: 'Encrypted document upload and retrieval (intake).' },
      { name: 'Threads', description: 'Threads and encrypted messages between citizens and officials (communication).' },
      { name: 'Exports', description: 'Export of a document package to the authority (export worker).' },
      { name: 'Operations', description: 'Dead letters of the event consumers (each service).' },
    ],
    paths: {
      ...authorityPaths,
      ...documentPaths,
      ...threadPaths,
      ...exportPaths,
      ...operationsPaths,
    },
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'A JWT from the citizen IdP or the authority IdP, signed with RS256, PS256 or ES256 ' +
            '(asymmetric only), with `iss`, `aud`, `exp` and `sub`.',
        },
      },
      schemas,
      headers,
      parameters,
      responses: {
        ...Object.fromEntries(
          Object.values(PROBLEM_RESPONSES).map((problem) => [
            problem.component,
            {
              description: problem.description,
              headers: standardHeaders(...problem.headers),
              content: PROBLEM_CONTENT,
            },
          ]),
        ),
      },
    },
  };
}
