import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { PROBLEM_CONTENT_TYPE } from './common-types';
import { ExportWebhookHeaders, ExportWebhookSchema } from './exports';
import { PROBLEM_RESPONSES, ProblemSchema, problemExample, type ProblemCode, type ProblemStatus } from './problems';
import { RequestIdParam } from './common';
import { ROUTES, STREAM_SCHEMAS, type ResponseHeader, type PublicRole, type RouteContract, type RouteError } from './routes';
import { z } from './zod';

/** Errors every operation can answer: bad token, rate limit, backing service down. */
const ALWAYS: ProblemStatus[] = [401, 429, 503];
const RATE_LIMIT_HEADERS = ['X-Request-Id', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'] as const;
type HeaderName = (typeof RATE_LIMIT_HEADERS)[number] | ResponseHeader;

const HEADERS: Record<HeaderName, { description: string; schema: Record<string, unknown>; example?: unknown }> = {
  'X-Request-Id': {
    description:
      "The request id: the client's `X-Request-Id` if it sent a sane one (`^[A-Za-z0-9._:-]{1,128}$`), otherwise a fresh UUID. " +
      'Also in problem bodies as `requestId`.',
    schema: { type: 'string' },
    example: 'req-1234',
  },
  'RateLimit-Limit': {
    description: 'Requests allowed per 60 s window for the caller.',
    schema: { type: 'integer', minimum: 0 },
    example: 10,
  },
  'RateLimit-Remaining': { description: 'Requests left in the current window.', schema: { type: 'integer', minimum: 0 }, example: 9 },
  'RateLimit-Reset': {
    description: 'Seconds until the window allows requests again.',
    schema: { type: 'integer', minimum: 0 },
    example: 42,
  },
  ETag: {
    description: 'Entity tag of the representation; send it back in `If-None-Match`.',
    schema: { type: 'string' },
    example: '"3f2a9c"',
  },
  Location: {
    description: 'URL of the created resource (or of the export job).',
    schema: { type: 'string', format: 'uri-reference' },
    example: '/api/v1/documents/0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10',
  },
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 }, example: 5 },
  'Cache-Control': {
    description: 'Whether, by whom and how long the answer may be cached (`public, max-age=300`; `private, no-store`).',
    schema: { type: 'string' },
    example: 'public, max-age=300',
  },
  'Content-Disposition': {
    description: 'A download: the file name to save it under.',
    schema: { type: 'string' },
    example: 'attachment; filename="termin-0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10.ics"',
  },
  'Content-Length': {
    description: 'Size of the container in bytes (equals `payload.size`).',
    schema: { type: 'integer', format: 'int64', minimum: 0 },
    example: 48213,
  },
};

const refs = (names: HeaderName[]) => Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));
const headerRefs = (...extra: HeaderName[]) => refs([...RATE_LIMIT_HEADERS, ...extra]);
/** A public route is not rate-limited: only the request id. */
const publicHeaderRefs = (...extra: HeaderName[]) => refs(['X-Request-Id', ...extra]);

const problemHeaders = (status: ProblemStatus, isPublic = false) => {
  const extra: HeaderName[] = status === 429 || status === 503 ? ['Retry-After'] : [];
  return isPublic ? publicHeaderRefs(...extra) : headerRefs(...extra);
};

const problemExamples = (codes: ProblemCode[]) =>
  Object.fromEntries(codes.map((code) => [code, { summary: code, value: problemExample(code) }]));

function problemContent(codes: ProblemCode[]) {
  return { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema, examples: problemExamples(codes) } };
}

/** For components registered as plain objects, where a zod schema would not be converted. */
function problemComponentContent(codes: ProblemCode[]) {
  return { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' }, examples: problemExamples(codes) } };
}

function errorResponse(error: RouteError, isPublic = false): ResponseConfig {
  const shared = PROBLEM_RESPONSES[error.status];
  return {
    description: error.description ?? shared.description,
    headers: problemHeaders(error.status, isPublic),
    content: problemContent(error.codes ?? shared.codes),
  };
}

/** Security requirements: the citizen IdP for citizens, the authority IdP (with the role's scope) for staff. */
function security(roles: PublicRole[]) {
  const requirements: Array<Record<string, string[]>> = [];
  if (roles.includes('citizen')) requirements.push({ citizenAuth: [] });
  const scopes = roles.filter((role) => role !== 'citizen').map((role) => (role === 'official' ? 'dvd:official' : `dvd:${role}`));
  if (scopes.length) requirements.push({ officialAuth: scopes });
  return requirements;
}

function routeConfig(route: RouteContract): RouteConfig {
  const errors = new Map<ProblemStatus, RouteError>();
  for (const error of route.errors) {
    const spec = typeof error === 'number' ? { status: error } : error;
    errors.set(spec.status, spec);
  }
  // a public route has no token to refuse and no rate limit; the gateway may still not reach its service
  for (const status of route.public ? ([503] as ProblemStatus[]) : ALWAYS) if (!errors.has(status)) errors.set(status, { status });

  const responses: Record<string, ResponseConfig | { $ref: string }> = {};
  for (const [status, response] of Object.entries(route.responses)) {
    const content = response.body
      ? { 'application/json': { schema: response.body } }
      : response.content
        ? Object.fromEntries(Object.entries(response.content).map(([type, schema]) => [type, { schema }]))
        : undefined;
    responses[status] = {
      description: response.description,
      headers: route.public ? publicHeaderRefs(...(response.headers ?? [])) : headerRefs(...(response.headers ?? [])),
      ...(content ? { content } : {}),
    };
  }
  for (const error of [...errors.values()].sort((a, b) => a.status - b.status)) {
    const plain = !error.description && !error.codes && !route.public;
    responses[String(error.status)] = plain
      ? { $ref: `#/components/responses/${PROBLEM_RESPONSES[error.status].component}` }
      : errorResponse(error, route.public);
  }
  const sorted = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));

  const { params, query, headers, body } = route.request ?? {};
  return {
    method: route.method,
    path: route.path,
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    description: [`**Who may call:** ${route.who}`, route.description].filter(Boolean).join('\n\n'),
    security: route.public ? [] : security(route.roles),
    // a public route is served at the gateway's root, not below the document's server URL (/api/v1)
    ...(route.public ? { servers: [{ url: '/', description: "The gateway's root." }] } : {}),
    request: {
      ...(params ? { params } : {}),
      ...(query ? { query } : {}),
      headers: (headers ?? z.object({})).extend({ 'X-Request-Id': RequestIdParam }),
      ...(body ? { body: { required: true, description: body.description, content: body.content } } : {}),
    },
    // zod-to-openapi passes reference objects through unchanged.
    responses: sorted as RouteConfig['responses'],
  };
}

const DESCRIPTION = `End-to-end encrypted delivery of documents from citizens to German authorities.
Everything is served by the gateway under \`/api/v1\`. Field names are camelCase JSON; times are RFC 3339 UTC.
This document is generated from \`libs/contracts\` (\`npm run openapi\` writes \`docs/openapi.json\`).

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

const WEBHOOK_DESCRIPTION = [
  "The message the export worker POSTs to the authority's `ingestUrl`. It is a ",
  '[Standard Webhooks](https://www.standardwebhooks.com/) message, verifiable with any Standard Webhooks library: ',
  '`webhook-signature` is `v1,<base64 HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>">` keyed with the ',
  "authority's `ingestSecret`; during a secret rotation one space-separated `v1,<sig>` per active secret, current first.\n\n",
  'Redirects are not followed (a `3xx` fails the job). A `2xx` answer completes the job; a JSON body must be an object of ',
  'at most 4 KiB (kept as `receipt`), a larger one is cut off and fails the job (`receipt-too-large`); `5xx`, `408`, `429`, ',
  'timeouts and network errors are retried with exponential backoff up to `EXPORT_MAX_ATTEMPTS` (default 5), then the ',
  'job is `FAILED`; any other `4xx` fails it at once.',
].join('');

/** The OpenAPI 3.1 document of the public API, generated from the contracts. */
export function buildOpenApiDocument() {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'citizenAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'A JWT from the citizen IdP (BundID, `CITIZEN_ISSUER`), signed with an asymmetric algorithm (RS256, PS256, ES256, …), ' +
      'with `iss`, `aud`, `exp` and `sub`. Role `citizen`.',
  });
  registry.registerComponent('securitySchemes', 'officialAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'A JWT from the authority IdP (`OFFICIAL_ISSUER`), signed with an asymmetric algorithm, with `iss`, `aud`, `exp`, `sub` ' +
      'and `authority_id`. The `scope` claim gives the role: `dvd:official` (default), `dvd:admin`, `dvd:platform-admin`; ' +
      "the roles listed in an operation's requirement are the scopes that may call it.",
  });
  for (const [name, header] of Object.entries(HEADERS)) registry.registerComponent('headers', name, header);
  registry.register('Problem', ProblemSchema);
  const configs = ROUTES.map(routeConfig);
  const used = new Set(
    configs.flatMap((config) => Object.values(config.responses).map((response) => ('$ref' in response ? response.$ref : ''))),
  );
  for (const [status, problem] of Object.entries(PROBLEM_RESPONSES)) {
    const code = Number(status) as ProblemStatus;
    if (!used.has(`#/components/responses/${problem.component}`)) continue;
    registry.registerComponent('responses', problem.component, {
      description: problem.description,
      headers: problemHeaders(code),
      content: problemComponentContent(problem.codes),
    });
  }
  for (const config of configs) registry.registerPath(config);
  for (const [name, schema] of Object.entries(STREAM_SCHEMAS)) registry.register(name, schema);
  registry.register('ExportWebhook', ExportWebhookSchema);
  registry.registerWebhook({
    method: 'post',
    path: 'exportPackage',
    operationId: 'deliverExportPackage',
    tags: ['Exports'],
    summary: 'Export package delivery (Standard Webhooks)',
    description: WEBHOOK_DESCRIPTION,
    security: [],
    request: {
      headers: ExportWebhookHeaders,
      body: { required: true, content: { 'application/json': { schema: ExportWebhookSchema } } },
    },
    responses: {
      200: { description: "Accepted; a JSON object body (at most 4 KiB) is kept as the job's `receipt`." },
      400: { description: 'Refused; the job fails at once (any `4xx` but `408` and `429`).' },
      503: { description: 'Temporarily unavailable; retried with exponential backoff (as every `5xx`, `408` and `429`).' },
    },
  });

  const generator = new OpenApiGeneratorV31(registry.definitions);
  const document = generator.generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'DirektVermittlungDe API',
      version: '1.0.0',
      description: DESCRIPTION,
      license: { name: 'UNLICENSED', identifier: 'LicenseRef-UNLICENSED' },
    },
    servers: [{ url: '/api/v1' }],
    security: [{ citizenAuth: [] }, { officialAuth: [] }],
    tags: [
      { name: 'Authorities', description: 'Authorities, units, encryption keys and routing rules (routing engine).' },
      { name: 'Documents', description: 'Encrypted document upload and retrieval (intake).' },
      { name: 'Threads', description: 'Threads and encrypted messages between citizens and officials (communication).' },
      { name: 'Exports', description: 'Export of a document package to the authority (export worker).' },
      { name: 'Events', description: 'What happens to your documents, as it happens: a Server-Sent Events stream (realtime).' },
      { name: 'Operations', description: 'Dead letters of the event consumers (each service).' },
    ],
  });
  // Plain JSON: the generator may leave `undefined` members behind.
  return JSON.parse(JSON.stringify(document)) as typeof document;
}
