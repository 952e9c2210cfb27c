import type { AnyZodObject, ZodTypeAny } from 'zod';
import type { Role } from '../identity';
import type { ServiceName } from '../services';
import {
  AuthorityCreateSchema,
  AuthorityParams,
  AuthorityPatchSchema,
  AuthoritySchema,
  IngestSecretListSchema,
  IngestSecretRotationSchema,
  UnitCreateSchema,
  UnitCreatedSchema,
} from './authorities';
import { IdempotencyKey, IfNoneMatch, PageQuery } from './common';
import {
  DeadLetterListQuery,
  DeadLetterPageSchema,
  DeadLetterParams,
  DeadLetterReplayedSchema,
  DeadLetterSchema,
  DeadLetterServiceParams,
  UnroutableDocumentPageSchema,
  UnroutableListQuery,
} from './admin/dead-letters';
import {
  DocumentCreateJsonSchema,
  DocumentCreateMultipartSchema,
  DocumentCreatedSchema,
  DocumentForwardMultipartSchema,
  DocumentForwardedSchema,
  DocumentHistoryPageSchema,
  DocumentHistoryQuery,
  DocumentListQuery,
  DocumentParams,
  DocumentPageSchema,
  DocumentReceiptSchema,
  DocumentRejectSchema,
  DocumentSchema,
  MIB,
  PayloadSchema,
  RoutingResultSchema,
  ReceiptJwksSchema,
} from './documents';
import {
  EVENT_STREAM_DESCRIPTION,
  EventStreamHeaders,
  EventStreamQuery,
  EventTicketSchema,
  StreamControlSchema,
  StreamEventSchema,
} from './events';
import { ExportAcceptedSchema, ExportCreateSchema, ExportJobSchema, ExportParams } from './exports';
import { JwkInputSchema, JwkSchema, JwksSchema, KeyParams } from './keys';
import { MessageCreateSchema, MessageListQuery, MessagePageSchema, MessageSchema } from './messages';
import type { ProblemCode, ProblemStatus } from './problems';
import { RoutingRuleInputSchema, RoutingRulePageSchema, RoutingRuleSchema, RuleParams } from './rules';
import {
  AppointmentCalendarSchema,
  AppointmentConfirmSchema,
  CALENDAR_CONTENT_TYPE,
  ThreadCreateSchema,
  ThreadListQuery,
  ThreadParams,
  ThreadPageSchema,
  ThreadSchema,
} from './threads';
import { z } from './zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type PublicRole = Exclude<Role, 'service'>;
export type Upstream = Exclude<ServiceName, 'gateway'>;
/**
 * `{service}`: the owner is named by the `service` path parameter (dead letters);
 * `gateway`: answered by the gateway itself (the event stream's tickets).
 */
export type RouteOwner = Upstream | '{service}' | 'gateway';
export type RouteTag = 'Authorities' | 'Documents' | 'Threads' | 'Exports' | 'Events' | 'Operations';
export type ResponseHeader = 'ETag' | 'Location' | 'Retry-After' | 'Content-Length' | 'Cache-Control' | 'Content-Disposition';

export interface RouteResponse {
  description: string;
  /** JSON body. */
  body?: ZodTypeAny;
  /** Non-JSON bodies by media type. */
  content?: Record<string, ZodTypeAny>;
  headers?: ResponseHeader[];
}

export interface RouteError {
  status: ProblemStatus;
  /** What the status means here (default: the shared description). */
  description?: string;
  /** The problem `type` codes answered (default: the shared codes of the status). */
  codes?: ProblemCode[];
}

export interface RouteBody {
  description?: string;
  content: Record<string, { schema: ZodTypeAny; encoding?: Record<string, { contentType: string }> }>;
}

export interface RouteContract {
  operationId: string;
  method: HttpMethod;
  /** OpenAPI style, below /api/v1: `/documents/{id}` (a `public` route: from the gateway's root). */
  path: string;
  /**
   * Served without authentication at the gateway's root, not below /api/v1 (`/.well-known/jwks.json`):
   * no token, no rate limit, no identity forwarded. `roles` is empty. GET only.
   */
  public?: boolean;
  /** The service that owns (serves) the route. */
  service: RouteOwner;
  roles: PublicRole[];
  tag: RouteTag;
  summary: string;
  /** Who may call it, in the words of docs/api-conventions.md. */
  who: string;
  description?: string;
  request?: { params?: AnyZodObject; query?: AnyZodObject; headers?: AnyZodObject; body?: RouteBody };
  responses: Record<number, RouteResponse>;
  /** Error statuses besides 401, 429 and 503, which every route can answer. */
  errors: Array<ProblemStatus | RouteError>;
}

const ALL: PublicRole[] = ['citizen', 'official', 'admin', 'platform-admin'];
const STAFF: PublicRole[] = ['official', 'admin', 'platform-admin'];
/** Admins of the authority; a platform admin is one for its own `authority_id`. */
const ADMIN: PublicRole[] = ['admin', 'platform-admin'];
const PLATFORM: PublicRole[] = ['platform-admin'];
const json = (schema: ZodTypeAny): RouteBody => ({ content: { 'application/json': { schema } } });
/** Accept, reject, forward: who may decide (docs/case-workflow.md). */
const DECIDERS =
  "an official of the document's authority who holds (is assigned) a thread of the document, or an admin of that " +
  'authority. Anyone else gets `404`, as for a document they cannot see.';
const INVALID_TRANSITION: RouteError = {
  status: 409,
  description: 'The document was already decided otherwise (its status does not allow this step); see docs/case-workflow.md.',
  codes: ['invalid-transition'],
};
const UNKNOWN_UNIT: RouteError = { status: 422, description: '`targetUnitId` is not a unit of this authority.', codes: ['unknown-unit'] };

const authorityRoutes: RouteContract[] = [
  {
    operationId: 'createAuthority',
    method: 'post',
    path: '/authorities',
    service: 'routing-engine',
    roles: PLATFORM,
    tag: 'Authorities',
    summary: 'Register an authority',
    who: 'platform-admin (`dvd:platform-admin`).',
    request: { body: json(AuthorityCreateSchema) },
    responses: { 201: { description: 'The authority was registered.', body: AuthoritySchema, headers: ['Location'] } },
    errors: [
      400,
      { status: 404, description: 'The caller is not a platform admin.' },
      { status: 409, description: 'An authority with this id exists.', codes: ['authority-exists'] },
    ],
  },
  {
    operationId: 'getAuthority',
    method: 'get',
    path: '/authorities/{id}',
    service: 'routing-engine',
    roles: ALL,
    tag: 'Authorities',
    summary: 'Get an authority',
    who: 'any authenticated caller.',
    description:
      'Name, units, default unit and retention period; its admins also see `ingestUrl` and `ingestSecrets` (ids and validity ' +
      'only). Secrets are never returned.',
    request: { params: AuthorityParams },
    responses: { 200: { description: 'The authority.', body: AuthoritySchema } },
    errors: [404],
  },
  {
    operationId: 'updateAuthority',
    method: 'patch',
    path: '/authorities/{id}',
    service: 'routing-engine',
    roles: ADMIN,
    tag: 'Authorities',
    summary: 'Change an authority',
    who: 'admin of the authority (`dvd:admin` with this `authority_id`).',
    description:
      'Changes `name`, `ingestUrl`, `ingestSecret`, `retentionPeriod`, `claimDeadline` or `defaultUnitId`; fields left out stay ' +
      "as they are. A new `defaultUnitId` routes the authority's unroutable documents again (as does every unit and rule change).",
    request: {
      params: AuthorityParams,
      body: {
        content: {
          'application/json': { schema: AuthorityPatchSchema },
          'application/merge-patch+json': { schema: AuthorityPatchSchema },
        },
      },
    },
    responses: { 200: { description: 'The changed authority.', body: AuthoritySchema } },
    errors: [400, 404, { status: 422, description: '`defaultUnitId` is not a unit of this authority.', codes: ['unknown-unit'] }],
  },
  {
    operationId: 'rotateIngestSecret',
    method: 'post',
    path: '/authorities/{id}/ingest-secret',
    service: 'routing-engine',
    roles: ADMIN,
    tag: 'Authorities',
    summary: 'Rotate the ingest secret',
    who: 'admin of the authority.',
    description:
      'Makes `ingestSecret` the current secret. The previous current secret stays active until `previousSecretExpiresAt` ' +
      '(default 24 h), so deliveries carry a signature for each and a receiver can switch at any time in between; any older ' +
      'secret is dropped (at most two are active). `PATCH` with `ingestSecret` instead replaces every secret at once (after a leak).',
    request: { params: AuthorityParams, body: json(IngestSecretRotationSchema) },
    responses: { 200: { description: 'The active secrets (never the secrets themselves).', body: IngestSecretListSchema } },
    errors: [400, 404],
  },
  {
    operationId: 'createUnit',
    method: 'post',
    path: '/authorities/{id}/units',
    service: 'routing-engine',
    roles: ADMIN,
    tag: 'Authorities',
    summary: 'Add a unit',
    who: 'admin of the authority.',
    description:
      "The first unit of an authority becomes its `defaultUnitId` until changed. The authority's unroutable documents are then " +
      'routed again at once (asynchronously, each exactly once: `document.routed`).',
    request: { params: AuthorityParams, body: json(UnitCreateSchema) },
    responses: { 201: { description: 'The unit was created.', body: UnitCreatedSchema, headers: ['Location'] } },
    errors: [400, 404, { status: 409, description: 'The authority already has a unit with this id.', codes: ['unit-exists'] }],
  },
  {
    operationId: 'listAuthorityKeys',
    method: 'get',
    path: '/authorities/{id}/keys',
    service: 'routing-engine',
    roles: ALL,
    tag: 'Authorities',
    summary: "Get the authority's public encryption keys",
    who: 'any authenticated caller.',
    description:
      'The active public encryption keys as a JWKS; each key has `kid`, `use: "enc"` and `alg`. Citizens\' apps encrypt payloads to one of them.',
    request: { params: AuthorityParams },
    responses: { 200: { description: 'The JWKS.', body: JwksSchema } },
    errors: [404],
  },
  {
    operationId: 'addAuthorityKey',
    method: 'post',
    path: '/authorities/{id}/keys',
    service: 'routing-engine',
    roles: ADMIN,
    tag: 'Authorities',
    summary: 'Add a public encryption key',
    who: 'admin of the authority.',
    description:
      'Accepts an RSA key of at least 3072 bit with `alg` `RSA-OAEP-256`, or an EC P-256/P-384 key with `alg` `ECDH-ES+A256KW`. ' +
      'A private or symmetric key is refused. Only the public members are kept, with `use: "enc"`.',
    request: { params: AuthorityParams, body: json(JwkInputSchema) },
    responses: { 201: { description: 'The key was added and is active.', body: JwkSchema, headers: ['Location'] } },
    errors: [
      { status: 400, description: 'Not a JSON object with a string `kty`, or a standard member that is not a string.' },
      404,
      { status: 409, description: 'The authority already has (or had) a key with this `kid`.', codes: ['duplicate-kid'] },
      {
        status: 422,
        description:
          'A private or symmetric key, or a key type, size, curve, `alg`, `use` or `kid` that is not allowed; the problem ' +
          '`type` names the rule.',
      },
    ],
  },
  {
    operationId: 'retireAuthorityKey',
    method: 'delete',
    path: '/authorities/{id}/keys/{kid}',
    service: 'routing-engine',
    roles: ADMIN,
    tag: 'Authorities',
    summary: 'Retire a key',
    who: 'admin of the authority.',
    description: 'The key is no longer offered, and new uploads encrypted to it are refused (`422`).',
    request: { params: KeyParams },
    responses: { 204: { description: 'The key was retired.' } },
    errors: [404],
  },
  {
    operationId: 'listRoutingRules',
    method: 'get',
    path: '/authorities/{id}/routing-rules',
    service: 'routing-engine',
    roles: STAFF,
    tag: 'Authorities',
    summary: 'List routing rules',
    who: 'admin or official of the authority.',
    description:
      'Rules in evaluation order (ascending `priority`). An authority has few rules: all of them come on one page ' +
      '(`nextCursor` is `null`); `limit` and `cursor` are checked like on every list.',
    request: { params: AuthorityParams, query: PageQuery },
    responses: { 200: { description: 'The rules.', body: RoutingRulePageSchema } },
    errors: [400, 404],
  },
  {
    operationId: 'createRoutingRule',
    method: 'post',
    path: '/authorities/{id}/routing-rules',
    service: 'routing-engine',
    roles: ADMIN,
    tag: 'Authorities',
    summary: 'Add a routing rule',
    who: 'admin of the authority.',
    description:
      'Rules are evaluated by ascending `priority`; the first match wins; no match routes to `defaultUnitId`. A change takes ' +
      "effect for the next document at once, on every replica, and routes the authority's unroutable documents again " +
      '(documents already routed keep their unit; `POST /documents/{id}/reroute` applies the new rules to one of them).',
    request: { params: AuthorityParams, body: json(RoutingRuleInputSchema) },
    responses: { 201: { description: 'The rule was created.', body: RoutingRuleSchema, headers: ['Location'] } },
    errors: [400, 404, UNKNOWN_UNIT],
  },
  {
    operationId: 'replaceRoutingRule',
    method: 'put',
    path: '/authorities/{id}/routing-rules/{ruleId}',
    service: 'routing-engine',
    roles: ADMIN,
    tag: 'Authorities',
    summary: 'Replace a routing rule',
    who: 'admin of the authority.',
    request: { params: RuleParams, body: json(RoutingRuleInputSchema) },
    responses: { 200: { description: 'The replaced rule.', body: RoutingRuleSchema } },
    errors: [400, 404, UNKNOWN_UNIT],
  },
  {
    operationId: 'deleteRoutingRule',
    method: 'delete',
    path: '/authorities/{id}/routing-rules/{ruleId}',
    service: 'routing-engine',
    roles: ADMIN,
    tag: 'Authorities',
    summary: 'Remove a routing rule',
    who: 'admin of the authority.',
    request: { params: RuleParams },
    responses: { 204: { description: 'The rule was removed.' } },
    errors: [404],
  },
];

const documentRoutes: RouteContract[] = [
  {
    operationId: 'createDocument',
    method: 'post',
    path: '/documents',
    service: 'intake',
    roles: ['citizen'],
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
    request: {
      headers: z.object({ 'Idempotency-Key': IdempotencyKey }),
      body: {
        content: {
          'multipart/form-data': {
            schema: DocumentCreateMultipartSchema,
            encoding: {
              metadata: { contentType: 'application/json, text/plain' },
              encryptedPayload: { contentType: 'application/jose, application/jose+json, application/octet-stream' },
            },
          },
          'application/json': { schema: DocumentCreateJsonSchema },
        },
      },
    },
    responses: {
      201: {
        description:
          'The document was stored; `receipt` is its signed receipt. A replay of an `Idempotency-Key` returns the first ' +
          'response again (the same receipt).',
        body: DocumentCreatedSchema,
        headers: ['Location'],
      },
    },
    errors: [
      { status: 400, description: 'Malformed body or metadata, unknown metadata fields, or `metadata` not the first part.' },
      { status: 409, description: 'A request with the same `Idempotency-Key` is still in flight.', codes: ['idempotency-key-in-flight'] },
      { status: 413, description: 'The payload exceeds `MAX_UPLOAD_BYTES` (multipart) or the JSON body exceeds 10 MiB.' },
      { status: 415, description: 'The body is neither `multipart/form-data` nor `application/json`.' },
      {
        status: 422,
        description:
          'The payload is not an acceptable JWE (plaintext, malformed or truncated, a disallowed `alg`/`enc`, or a `kid` that ' +
          'is not an active key of the authority), the authority does not exist, or the `Idempotency-Key` was used with a different body.',
        codes: ['unprocessable', 'unknown-authority', 'idempotency-key-reused'],
      },
      { status: 503, description: 'Object storage or the database is unavailable; nothing half-stored remains.' },
    ],
  },
  {
    operationId: 'listDocuments',
    method: 'get',
    path: '/documents',
    service: 'intake',
    roles: ALL,
    tag: 'Documents',
    summary: 'List documents',
    who: "citizen (their own documents) or official/admin (their authority's documents).",
    description:
      'Newest first. `?overdue=true` is the escalation inbox of officials: the routed documents nobody claimed or decided ' +
      "within the authority's `claimDeadline`.",
    request: { query: DocumentListQuery },
    responses: { 200: { description: 'A page of documents.', body: DocumentPageSchema } },
    errors: [400],
  },
  {
    operationId: 'getDocument',
    method: 'get',
    path: '/documents/{id}',
    service: 'intake',
    roles: ALL,
    tag: 'Documents',
    summary: 'Get a document',
    who: 'the citizen who uploaded it, or officials/admins of its authority.',
    description: 'Officials also see `replyKey`. Supports conditional requests with `If-None-Match`.',
    request: { params: DocumentParams, headers: z.object({ 'If-None-Match': IfNoneMatch }) },
    responses: {
      200: { description: 'The document.', body: DocumentSchema, headers: ['ETag'] },
      304: { description: 'Not modified since the given `ETag`.', headers: ['ETag'] },
    },
    errors: [404],
  },
  {
    operationId: 'getDocumentPayload',
    method: 'get',
    path: '/documents/{id}/payload',
    service: 'intake',
    roles: ALL,
    tag: 'Documents',
    summary: 'Download the encrypted payload',
    who: 'the citizen who uploaded it, or officials/admins of its authority.',
    description: 'The encrypted container exactly as stored, streamed byte for byte.',
    request: { params: DocumentParams },
    responses: {
      200: {
        description: 'The encrypted container.',
        content: { 'application/jose': PayloadSchema, 'application/jose+json': PayloadSchema, 'application/octet-stream': PayloadSchema },
        headers: ['ETag', 'Content-Length'],
      },
    },
    errors: [404],
  },
  {
    operationId: 'rerouteDocument',
    method: 'post',
    path: '/documents/{id}/reroute',
    service: 'intake',
    roles: ADMIN,
    tag: 'Documents',
    summary: 'Route a document again',
    who: "admin of the document's authority, or a platform admin (any document, as for the unroutable list).",
    description:
      "Evaluates the authority's current routing rules (and default unit) for the document again and answers the result. " +
      'A different unit is applied at once and published (`document.routed`); the same unit again changes nothing ' +
      '(`changed: false`), so the request is safe to repeat. An unroutable document stays unroutable while its authority ' +
      'has no unit (`outcome: UNROUTABLE`); documents become routable again automatically when their authority gains a unit, ' +
      'a default unit or a rule.\n\n' +
      'Only a document nobody is working on yet is re-routed: `RECEIVED` (unroutable or not yet routed) or `ROUTED`. Once a ' +
      'thread of it was claimed (`ASSIGNED`), a decision was made (accepted, rejected, forwarded) or it was exported, the ' +
      'answer is `409`.',
    request: { params: DocumentParams },
    responses: { 200: { description: "The document's routing now.", body: RoutingResultSchema } },
    errors: [
      { status: 404, description: 'The document does not exist or the caller is not an admin of its authority (or a platform admin).' },
      {
        status: 409,
        description: 'The document is claimed (`ASSIGNED`), decided or exported: re-routing it would take it from the people handling it.',
        codes: ['document-not-reroutable'],
      },
    ],
  },
  {
    operationId: 'getDocumentReceipt',
    method: 'get',
    path: '/documents/{id}/receipt',
    service: 'intake',
    roles: ALL,
    tag: 'Documents',
    summary: "Get the document's signed receipt",
    who: 'the citizen who uploaded it, or officials/admins of its authority.',
    description:
      'The receipt the upload answered, byte for byte: a compact JWS signed by the platform over the document id, authority, ' +
      'document type, size and sha256 of the stored container and the `kid` it was encrypted for (claims: `ReceiptClaims`). ' +
      'Verify it with `GET /.well-known/jwks.json`. Documents stored before receipts existed have none (`404`).',
    request: { params: DocumentParams },
    responses: { 200: { description: 'The receipt.', body: DocumentReceiptSchema } },
    errors: [404],
  },
  {
    operationId: 'getDocumentHistory',
    method: 'get',
    path: '/documents/{id}/history',
    service: 'intake',
    roles: ALL,
    tag: 'Documents',
    summary: "Get the document's history",
    who: 'the citizen who uploaded it, or officials/admins of its authority.',
    description:
      'Every step of the document, oldest first: each status it reached (and an export after a decision), when, and the ' +
      'role that made it (`system` for routing and exports). Never a name or user id.',
    request: { params: DocumentParams, query: DocumentHistoryQuery },
    responses: { 200: { description: 'A page of history entries.', body: DocumentHistoryPageSchema } },
    errors: [400, 404],
  },
  {
    operationId: 'acceptDocument',
    method: 'post',
    path: '/documents/{id}/accept',
    service: 'intake',
    roles: STAFF,
    tag: 'Documents',
    summary: 'Accept a document',
    who: DECIDERS,
    description:
      'Moves the document to `ACCEPTED` (from `RECEIVED`, `ROUTED`, `ASSIGNED` or `EXPORTED`) and publishes ' +
      '`document.accepted`. Accepting an `ACCEPTED` document again answers `200` with it unchanged.',
    request: { params: DocumentParams },
    responses: { 200: { description: 'The accepted document.', body: DocumentSchema } },
    errors: [404, INVALID_TRANSITION],
  },
  {
    operationId: 'rejectDocument',
    method: 'post',
    path: '/documents/{id}/reject',
    service: 'intake',
    roles: STAFF,
    tag: 'Documents',
    summary: 'Reject a document',
    who: DECIDERS,
    description:
      'Moves the document to `REJECTED` with `reasonCode` (and an encrypted `note` for the citizen), from `RECEIVED`, ' +
      '`ROUTED`, `ASSIGNED` or `EXPORTED`, and publishes `document.rejected`. Rejecting a `REJECTED` document again with the ' +
      'same `reasonCode` answers `200` with it unchanged (the first note stays).',
    request: { params: DocumentParams, body: json(DocumentRejectSchema) },
    responses: { 200: { description: 'The rejected document.', body: DocumentSchema } },
    errors: [
      400,
      404,
      { ...INVALID_TRANSITION, description: 'The document was already decided otherwise, or rejected with another `reasonCode`.' },
      { status: 422, description: '`note` is not an acceptable JWE (e.g. plain text).' },
    ],
  },
  {
    operationId: 'forwardDocument',
    method: 'post',
    path: '/documents/{id}/forward',
    service: 'intake',
    roles: STAFF,
    tag: 'Documents',
    summary: 'Forward a document to the responsible authority',
    who: DECIDERS,
    description: [
      "The official's client downloads the payload, decrypts it, and encrypts it again for an active key of the target ",
      'authority (`GET /authorities/{id}/keys`); this uploads the new container like `POST /documents` (multipart, ',
      '`metadata` `{ "targetAuthorityId" }` first, then `encryptedPayload`; checked against the target\'s active keys, never ',
      'decrypted). The platform creates a new document at the target for the same citizen (same metadata and reply key, ',
      '`forwardedFrom` = this one, its own receipt), marks this one `FORWARDED` with `forwardedTo`, publishes ',
      '`document.forwarded` and routes the new one. Allowed from `RECEIVED`, `ROUTED`, `ASSIGNED` or `EXPORTED`.\n\n',
      'Send an `Idempotency-Key` to retry safely: the same key returns the first answer again.',
    ].join(''),
    request: {
      params: DocumentParams,
      headers: z.object({ 'Idempotency-Key': IdempotencyKey }),
      body: {
        content: {
          'multipart/form-data': {
            schema: DocumentForwardMultipartSchema,
            encoding: {
              metadata: { contentType: 'application/json, text/plain' },
              encryptedPayload: { contentType: 'application/jose, application/jose+json, application/octet-stream' },
            },
          },
        },
      },
    },
    responses: { 200: { description: 'The forwarded original and the new document.', body: DocumentForwardedSchema } },
    errors: [
      { status: 400, description: 'Malformed body or metadata, unknown metadata fields, or `metadata` not the first part.' },
      404,
      {
        status: 409,
        description:
          'The document was already decided (its status does not allow a forward), or a request with the same ' +
          '`Idempotency-Key` is still in flight.',
        codes: ['invalid-transition', 'idempotency-key-in-flight'],
      },
      { status: 413, description: 'The payload exceeds `MAX_UPLOAD_BYTES`.' },
      { status: 415, description: 'The body is not `multipart/form-data`.' },
      {
        status: 422,
        description:
          'The payload is not an acceptable JWE for the target (as for an upload), the target authority does not exist or is ' +
          "the document's own, or the `Idempotency-Key` was used with a different request.",
        codes: ['unprocessable', 'unknown-authority', 'same-authority', 'idempotency-key-reused'],
      },
      { status: 503, description: 'Object storage, the database or a service asked is unavailable; nothing half-stored remains.' },
    ],
  },
  {
    operationId: 'listUnroutableDocuments',
    method: 'get',
    path: '/admin/unroutable-documents',
    service: 'routing-engine',
    roles: PLATFORM,
    tag: 'Documents',
    summary: 'List documents that could not be routed',
    who: 'platform-admin.',
    description:
      'Documents the routing engine could not route (no rule matched and the authority has no default unit), by id, newest ' +
      'first. Ids only: no Aktenzeichen or other metadata. *Platform operations endpoint.*',
    request: { query: UnroutableListQuery },
    responses: { 200: { description: 'A page of unroutable documents.', body: UnroutableDocumentPageSchema } },
    errors: [400, { status: 404, description: 'The caller is not a platform admin.' }],
  },
];

const publicRoutes: RouteContract[] = [
  {
    operationId: 'getReceiptSigningKeys',
    method: 'get',
    path: '/.well-known/jwks.json',
    service: 'intake',
    public: true,
    roles: [],
    tag: 'Documents',
    summary: "The platform's receipt signing keys",
    who: 'anyone: no authentication (served at the root of the gateway, not below `/api/v1`).',
    description:
      'The public keys that verify signed receipts, as a JWK Set: the current key first, then every retired key that signed ' +
      'a receipt of a document that still exists. Cacheable (`Cache-Control: public, max-age=300`).',
    responses: { 200: { description: 'The JWK Set.', body: ReceiptJwksSchema, headers: ['Cache-Control'] } },
    errors: [{ status: 400, description: 'The request has a body.' }],
  },
];

const DEAD_LETTER_DESCRIPTION =
  'An event a service could not apply after `EVENT_MAX_DELIVERIES` attempts, or a malformed message, is kept in that ' +
  "service's database until it is replayed, deleted, or its document is purged. *Platform operations endpoint.*";

const operationsRoutes: RouteContract[] = [
  {
    operationId: 'listDeadLetters',
    method: 'get',
    path: '/admin/dead-letters/{service}',
    service: '{service}',
    roles: PLATFORM,
    tag: 'Operations',
    summary: "List a service's dead letters",
    who: 'platform-admin.',
    description: DEAD_LETTER_DESCRIPTION,
    request: { params: DeadLetterServiceParams, query: DeadLetterListQuery },
    responses: { 200: { description: 'A page of dead letters.', body: DeadLetterPageSchema } },
    errors: [400, { status: 404, description: 'The caller is not a platform admin, or the service is unknown.' }],
  },
  {
    operationId: 'getDeadLetter',
    method: 'get',
    path: '/admin/dead-letters/{service}/{eventId}',
    service: '{service}',
    roles: PLATFORM,
    tag: 'Operations',
    summary: 'Get a dead letter',
    who: 'platform-admin.',
    request: { params: DeadLetterParams },
    responses: { 200: { description: 'The dead letter.', body: DeadLetterSchema } },
    errors: [404],
  },
  {
    operationId: 'deleteDeadLetter',
    method: 'delete',
    path: '/admin/dead-letters/{service}/{eventId}',
    service: '{service}',
    roles: PLATFORM,
    tag: 'Operations',
    summary: 'Delete a dead letter',
    who: 'platform-admin.',
    request: { params: DeadLetterParams },
    responses: { 204: { description: 'The dead letter was deleted.' } },
    errors: [404],
  },
  {
    operationId: 'replayDeadLetter',
    method: 'post',
    path: '/admin/dead-letters/{service}/{eventId}/replay',
    service: '{service}',
    roles: PLATFORM,
    tag: 'Operations',
    summary: 'Replay a dead letter',
    who: 'platform-admin.',
    description:
      "Puts the stored event (same event id, so it is applied at most once) into the service's outbox, addressed to its own " +
      'queue only, and deletes the dead letter.',
    request: { params: DeadLetterParams },
    responses: { 200: { description: 'The event is queued for delivery.', body: DeadLetterReplayedSchema } },
    errors: [404, { status: 409, description: 'The message was malformed; its body was not kept.', codes: ['not-replayable'] }],
  },
];

const NOT_ASSIGNEE: RouteError = { status: 409, description: 'The caller is not the assignee.', codes: ['not-assignee'] };
/** Double booking (ADR 0022): a confirmed appointment of the same official overlaps. */
const SLOT_TAKEN =
  'The official the appointment is with has another confirmed appointment overlapping this slot (`slot-taken`); of two ' +
  'citizens confirming overlapping slots of one official at once, exactly one succeeds.';

const threadRoutes: RouteContract[] = [
  {
    operationId: 'createThread',
    method: 'post',
    path: '/documents/{id}/threads',
    service: 'communication',
    roles: ALL,
    tag: 'Threads',
    summary: 'Open a thread on a document',
    who: 'the citizen who uploaded the document, or an official of its authority.',
    description:
      '`CALLBACK` threads carry `callback: { preferredFrom, preferredTo }`, `APPOINTMENT` threads `appointment: { proposedSlots }` ' +
      '(the citizen then confirms one).',
    request: { params: DocumentParams, body: json(ThreadCreateSchema) },
    responses: { 201: { description: 'The thread was opened.', body: ThreadSchema, headers: ['Location'] } },
    errors: [
      400,
      404,
      {
        status: 409,
        description: 'A proposed slot overlaps a confirmed appointment of the calling official (`slot-taken`; `errors` names the slots).',
        codes: ['slot-taken'],
      },
    ],
  },
  {
    operationId: 'listThreads',
    method: 'get',
    path: '/threads',
    service: 'communication',
    roles: ALL,
    tag: 'Threads',
    summary: 'List threads',
    who: "citizen (threads on their own documents) or official/admin (their authority's threads).",
    description: 'Newest first.',
    request: { query: ThreadListQuery },
    responses: { 200: { description: 'A page of threads.', body: ThreadPageSchema } },
    errors: [400],
  },
  {
    operationId: 'getThread',
    method: 'get',
    path: '/threads/{id}',
    service: 'communication',
    roles: ALL,
    tag: 'Threads',
    summary: 'Get a thread',
    who: 'the parties: the citizen who owns the document, officials of its authority.',
    request: { params: ThreadParams },
    responses: { 200: { description: 'The thread.', body: ThreadSchema } },
    errors: [404],
  },
  {
    operationId: 'claimThread',
    method: 'post',
    path: '/threads/{id}/claim',
    service: 'communication',
    roles: STAFF,
    tag: 'Threads',
    summary: 'Claim a thread',
    who: "an official of the document's authority.",
    description:
      'Sets `assignedOfficialId` to the caller and moves the document to `ASSIGNED`. Claiming again as the same official ' +
      'answers `200`; of two racing claims exactly one wins.',
    request: { params: ThreadParams },
    responses: { 200: { description: 'The thread, now assigned to the caller.', body: ThreadSchema } },
    errors: [
      404,
      {
        status: 409,
        description: 'Another official holds the thread, or the thread is closed.',
        codes: ['thread-claimed', 'thread-closed'],
      },
    ],
  },
  {
    operationId: 'releaseThread',
    method: 'post',
    path: '/threads/{id}/release',
    service: 'communication',
    roles: STAFF,
    tag: 'Threads',
    summary: 'Release a thread',
    who: 'the assignee.',
    description: 'Sets `assignedOfficialId` back to `null`.',
    request: { params: ThreadParams },
    responses: { 200: { description: 'The thread, now unassigned.', body: ThreadSchema } },
    errors: [404, NOT_ASSIGNEE],
  },
  {
    operationId: 'closeThread',
    method: 'post',
    path: '/threads/{id}/close',
    service: 'communication',
    roles: STAFF,
    tag: 'Threads',
    summary: 'Close a thread',
    who: 'the assignee.',
    description: 'Sets `status: CLOSED`; nothing can be posted to it afterwards.',
    request: { params: ThreadParams },
    responses: { 200: { description: 'The closed thread.', body: ThreadSchema } },
    errors: [404, NOT_ASSIGNEE],
  },
  {
    operationId: 'confirmAppointment',
    method: 'post',
    path: '/threads/{id}/appointment/confirm',
    service: 'communication',
    roles: ['citizen'],
    tag: 'Threads',
    summary: 'Confirm an appointment slot',
    who: 'the citizen who owns the document.',
    description:
      'Sets `appointment.confirmedSlot` to the proposed slot starting at `start`, and books it for the official who proposed ' +
      'the slots: no two confirmed appointments of one official overlap. Confirming the same slot again answers `200`.',
    request: { params: ThreadParams, body: json(AppointmentConfirmSchema) },
    responses: { 200: { description: 'The thread with the confirmed slot.', body: ThreadSchema } },
    errors: [
      400,
      404,
      {
        status: 409,
        description: `The thread is closed, another slot is already confirmed (cancel it first), or: ${SLOT_TAKEN}`,
        codes: ['thread-closed', 'slot-already-confirmed', 'slot-taken'],
      },
      {
        status: 422,
        description: '`start` is not the start of a proposed slot, or the thread is not an `APPOINTMENT` thread.',
        codes: ['not-a-proposed-slot', 'not-an-appointment'],
      },
    ],
  },
  {
    operationId: 'cancelAppointment',
    method: 'post',
    path: '/threads/{id}/appointment/cancel',
    service: 'communication',
    roles: ALL,
    tag: 'Threads',
    summary: 'Cancel a confirmed appointment',
    who: 'the citizen who owns the document, the official who proposed the slots, or the assignee.',
    description:
      'Sets `appointment.confirmedSlot` back to `null` and frees the time for the official; no reminder goes out for it, and ' +
      'the calendar file answers `409` until a slot is confirmed again (then with a higher `SEQUENCE`). The proposed slots ' +
      'stay, so the citizen may confirm another. Nothing confirmed: `200`, unchanged. Allowed on closed threads too.',
    request: { params: ThreadParams },
    responses: { 200: { description: 'The thread without a confirmed slot.', body: ThreadSchema } },
    errors: [
      404,
      {
        status: 409,
        description: 'The calling official neither proposed the slots nor holds the thread.',
        codes: ['not-assignee'],
      },
      { status: 422, description: 'The thread is not an `APPOINTMENT` thread.', codes: ['not-an-appointment'] },
    ],
  },
  {
    operationId: 'getAppointmentCalendar',
    method: 'get',
    path: '/threads/{id}/appointment.ics',
    service: 'communication',
    roles: ALL,
    tag: 'Threads',
    summary: 'Download the confirmed appointment as a calendar file',
    who: 'the parties: the citizen who owns the document, officials of its authority.',
    description:
      'The confirmed slot as an iCalendar file (RFC 5545) for any calendar app: `Content-Type: text/calendar; charset=utf-8`, ' +
      '`Content-Disposition: attachment; filename="termin-<threadId>.ics"`, `Cache-Control: private, no-store`. The same ' +
      '`UID` on every download, so importing it again updates the entry. No Aktenzeichen and no names of persons.',
    request: { params: ThreadParams },
    responses: {
      200: {
        description: 'The calendar file.',
        content: { [CALENDAR_CONTENT_TYPE]: AppointmentCalendarSchema },
        headers: ['Content-Disposition', 'Cache-Control'],
      },
    },
    errors: [
      { status: 404, description: 'The thread does not exist, is not visible to the caller, or is not an `APPOINTMENT` thread.' },
      {
        status: 409,
        description: 'No slot is confirmed (yet, or any more: it was cancelled).',
        codes: ['appointment-not-confirmed'],
      },
    ],
  },
  {
    operationId: 'postMessage',
    method: 'post',
    path: '/threads/{id}/messages',
    service: 'communication',
    roles: ALL,
    tag: 'Threads',
    summary: 'Post a message',
    who: 'the citizen who owns the document, or the assignee.',
    description: 'The content is an encrypted `contentBlob`, checked like payloads but with any `kid`.',
    request: { params: ThreadParams, body: json(MessageCreateSchema) },
    responses: { 201: { description: 'The message was posted.', body: MessageSchema, headers: ['Location'] } },
    errors: [
      400,
      404,
      {
        status: 409,
        description: 'The thread is closed, or the calling official is not the assignee.',
        codes: ['thread-closed', 'not-assignee'],
      },
      {
        status: 413,
        description: '`contentBlob` exceeds 256 KiB (`message-too-large`), or the body exceeds the JSON limit (`payload-too-large`).',
        codes: ['message-too-large', 'payload-too-large'],
      },
      { status: 422, description: '`contentBlob` is not an acceptable JWE.' },
    ],
  },
  {
    operationId: 'listMessages',
    method: 'get',
    path: '/threads/{id}/messages',
    service: 'communication',
    roles: ALL,
    tag: 'Threads',
    summary: 'List messages',
    who: 'the parties: the citizen who owns the document, officials of its authority.',
    description:
      'Newest first; `cursor` pages towards older messages. With `?after=<messageId>` instead, returns the messages newer than ' +
      'that one, oldest first (for catching up; continue with `nextCursor`). `after` and `cursor` exclude each other.',
    request: { params: ThreadParams, query: MessageListQuery },
    responses: { 200: { description: 'A page of messages.', body: MessagePageSchema } },
    errors: [{ status: 400, description: 'Bad paging parameters, or both `after` and `cursor` given.' }, 404],
  },
];

const exportRoutes: RouteContract[] = [
  {
    operationId: 'createExport',
    method: 'post',
    path: '/exports',
    service: 'export-worker',
    roles: STAFF,
    tag: 'Exports',
    summary: 'Export a document to its authority',
    who: "an official of the document's authority.",
    description:
      "Queues a job that packages the document, its threads and messages and delivers it to the authority's `ingestUrl` as a " +
      'Standard Webhooks message (see the `exportPackage` webhook). Poll the job at `Location`.\n\n' +
      '**One export at a time.** If the document already has a job that is `PENDING` or `RUNNING`, or one that `COMPLETED` ' +
      'less than `EXPORT_REPEAT_AFTER_MS` ago (default 1 h), no new job is queued: the answer is `200` with that job (its ' +
      'id, status and `Location`). Concurrent requests cannot race past this (a unique index decides). A `FAILED` job does ' +
      'not block a new request.',
    request: { body: json(ExportCreateSchema) },
    responses: {
      200: {
        description: 'An earlier job of the document answers the request (pending, running, or completed within the cool-down).',
        body: ExportAcceptedSchema,
        headers: ['Location'],
      },
      202: { description: 'A new job was queued.', body: ExportAcceptedSchema, headers: ['Location'] },
    },
    errors: [400, { status: 404, description: 'The document does not exist or is not visible to the caller.' }],
  },
  {
    operationId: 'getExport',
    method: 'get',
    path: '/exports/{jobId}',
    service: 'export-worker',
    roles: STAFF,
    tag: 'Exports',
    summary: 'Get an export job',
    who: "officials of the document's authority.",
    request: { params: ExportParams },
    responses: { 200: { description: 'The job.', body: ExportJobSchema } },
    errors: [404],
  },
];

const eventRoutes: RouteContract[] = [
  {
    operationId: 'streamEvents',
    method: 'get',
    path: '/events',
    service: 'realtime',
    roles: ALL,
    tag: 'Events',
    summary: 'Stream what happens to your documents (Server-Sent Events)',
    who: 'any authenticated caller: a citizen gets the events of their own documents, staff those of their authority.',
    description: EVENT_STREAM_DESCRIPTION,
    request: { query: EventStreamQuery, headers: EventStreamHeaders },
    responses: {
      200: {
        description:
          'The stream, until the token expires, the client goes away or a replica stops (reconnect with `Last-Event-ID`). ' +
          'Each `data` is a `StreamEvent` or, for `reset` and `expired`, a `StreamControl`.',
        content: {
          'text/event-stream': z.string().openapi({
            description: 'Server-Sent Events; `data` is JSON, see `StreamEvent` and `StreamControl`.',
            example:
              'retry: 3000\n\nid: 1042\nevent: message.created\ndata: {"type":"message.created","documentId":"0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10",' +
              '"threadId":"5d7e0c1a-7b8e-4a47-9f3e-2c1b7f1c9e11","messageId":"9a1f3c52-4a47-4f3e-9a55-1d2b7f1c9e12","time":"2025-01-31T09:30:00.000Z"}\n\n',
          }),
        },
      },
    },
    errors: [
      { status: 400, description: 'A bad `unitId`, `Last-Event-ID` or `ticket`, a `unitId` from a citizen, or both a token and a ticket.' },
      { status: 401, description: 'No or an invalid token, or a ticket that is unknown, expired or already used.' },
      { status: 404, description: 'The caller’s authority has no unit `unitId`.' },
      {
        status: 429,
        description: 'Too many streams or stream openings: at most 5 open streams per user, and a rate limit on opening them.',
        codes: ['too-many-streams', 'rate-limited'],
      },
    ],
  },
  {
    operationId: 'createEventTicket',
    method: 'post',
    path: '/events/tickets',
    service: 'gateway',
    roles: ALL,
    tag: 'Events',
    summary: 'Get a single-use ticket for the event stream (browsers)',
    who: 'any authenticated caller.',
    description:
      'A browser’s `EventSource` cannot send an `Authorization` header, and a token in a URL would end up in logs and ' +
      'histories. This answers a random single-use ticket, valid for 30 s, bound to the caller and the expiry of their ' +
      'token: open `GET /events?ticket=…` with it. No body.',
    responses: { 200: { description: 'The ticket (not a resource: nothing to fetch later).', body: EventTicketSchema } },
    errors: [{ status: 400, description: 'The request has a body.' }],
  },
];

/** Every public route of the API (below /api/v1), with its owner, roles and contract. */
export const ROUTES: readonly RouteContract[] = [
  ...authorityRoutes,
  ...documentRoutes,
  ...publicRoutes,
  ...threadRoutes,
  ...exportRoutes,
  ...eventRoutes,
  ...operationsRoutes,
];

/** Schemas the OpenAPI document lists although no JSON body refers to them (the event stream's `data`). */
export const STREAM_SCHEMAS = { StreamEvent: StreamEventSchema, StreamControl: StreamControlSchema } as const;
