import {
  AuthorityId,
  BASE64_PATTERN,
  DocumentType,
  ReferenceNumber,
  RegionKey,
  SHA256_HEX_PATTERN,
  ServiceKey,
  Timestamp,
  UnitId,
  Uuid,
  pageOf,
  pageQueryShape,
} from './common';
import { JwkSchema } from './keys';
import { z } from './zod';

export const DOCUMENT_STATUSES = ['RECEIVED', 'ROUTED', 'ASSIGNED', 'EXPORTED'] as const;
/**
 * The statuses that record a decision on a document (issue 15: accept, reject, forward).
 * Named here as plain strings so that the rules built on them (a decided document is never
 * overdue and is not re-routed) hold as soon as these statuses exist; extend the list when
 * a new decision status is added.
 */
export const DECIDED_STATUSES: readonly string[] = ['ACCEPTED', 'REJECTED', 'FORWARDED'];
export const isDecidedStatus = (status: string): boolean => DECIDED_STATUSES.includes(status);
export const MIB = 1024 * 1024;

export const DocumentMetadataSchema = z
  .object({
    referenceNumber: ReferenceNumber,
    authorityId: AuthorityId.openapi({ description: 'Must be a registered authority.' }),
    documentType: DocumentType,
    serviceKey: ServiceKey.optional(),
    regionKey: RegionKey.optional(),
    replyKey: JwkSchema.optional().openapi({ description: "The citizen's public JWK; officials encrypt replies to it." }),
  })
  .strict()
  .openapi('DocumentMetadata', { description: 'What the citizen declares about the document. Unknown fields → `400`.' });

export const DocumentCreateJsonSchema = z
  .object({
    metadata: DocumentMetadataSchema,
    encryptedPayload: z.string().regex(BASE64_PATTERN, 'must be base64').openapi({
      format: 'byte',
      description: 'The encrypted container (a JWE, see `DocumentCreateMultipart`), base64-encoded (base64url is accepted too).',
    }),
  })
  .strict()
  .openapi('DocumentCreateJson', { description: 'Upload for small payloads: the whole body may be at most 10 MiB.' });

export const DocumentCreateMultipartSchema = z
  .object({
    metadata: DocumentMetadataSchema.openapi({
      description:
        'The metadata as JSON: a part of type `application/json` or a plain form field holding the JSON text. Must be the first part.',
    }),
    encryptedPayload: z.string().openapi({
      format: 'binary',
      description:
        'The encrypted container: a JWE (compact or JSON serialization) whose protected header has `alg` `RSA-OAEP-256`, ' +
        '`ECDH-ES` or `ECDH-ES+A256KW`, `enc` `A256GCM`, and a `kid` that is an active key of the target authority. At most ' +
        '`MAX_UPLOAD_BYTES` (default 100 MiB).',
    }),
  })
  .openapi('DocumentCreateMultipart', {
    description:
      'Streaming upload. The part `metadata` must come first, then `encryptedPayload`; the payload is streamed to object ' +
      'storage and never held in memory.',
  });

export const DocumentSchema = z
  .object({
    id: Uuid,
    status: z.enum(DOCUMENT_STATUSES).openapi({
      description:
        '`RECEIVED` → `ROUTED` (the routing engine chose `unitId`) → `ASSIGNED` (an official claimed a thread of it) → ' +
        '`EXPORTED` (an export completed).',
    }),
    referenceNumber: ReferenceNumber,
    authorityId: AuthorityId,
    documentType: DocumentType,
    serviceKey: ServiceKey.nullable(),
    regionKey: RegionKey.nullable(),
    unitId: UnitId.nullable().openapi({ description: '`null` until the document is routed.' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    retentionDate: Timestamp.openapi({
      description: "Creation time plus the authority's `retentionPeriod`; the document is purged after it.",
    }),
    overdue: z.boolean().openapi({
      description:
        "`true` once the document waited longer than its authority's `claimDeadline` after it was routed with no thread " +
        'claimed and no decision (reported once, by the `document.overdue` event); `false` again as soon as a thread is ' +
        'claimed, a decision is made or it is exported. A cleared document does not become overdue again.',
    }),
    payload: z.object({
      size: z.number().int().min(0).openapi({ format: 'int64', description: 'Bytes of the stored container.' }),
      sha256: z.string().regex(SHA256_HEX_PATTERN).openapi({ description: 'SHA-256 of the stored container, lowercase hex.' }),
    }),
    // `.nullable()` of a registered schema comes out as an allOf with the Jwk (no null matches it), and a
    // union with null lists `null` twice: the document gets the plain anyOf
    replyKey: z
      .union([JwkSchema, z.null()])
      .optional()
      .openapi({
        anyOf: [{ $ref: '#/components/schemas/Jwk' }, { type: 'null' }],
        description: "The citizen's reply key; `null` if the upload gave none. Present only in responses to officials.",
      }),
  })
  .openapi('Document');

/**
 * A boolean query parameter: `true` or `false` in the URL; a client may pass a boolean,
 * which its URL encoding turns into the same text.
 */
const QueryBoolean = z
  .union([z.boolean(), z.enum(['true', 'false'])])
  .transform((v) => v === true || v === 'true')
  .openapi({ type: 'boolean' });

export const DocumentPageSchema = pageOf('DocumentPage', DocumentSchema, 'A page of documents, newest first.');

export const DocumentListQuery = z.object({
  ...pageQueryShape,
  status: z
    .enum(DOCUMENT_STATUSES)
    .optional()
    .openapi({ param: { description: 'Only documents in this status.' } }),
  unitId: z
    .string()
    .max(50)
    .optional()
    .openapi({ param: { description: 'Only documents routed to this unit.' } }),
  overdue: QueryBoolean.optional().openapi({
    param: { description: "`true`: only overdue documents (an official's escalation inbox, see `overdue`); `false`: only the others." },
  }),
});

export const DocumentParams = z.object({ id: Uuid.openapi({ param: { description: 'Document id.' } }) });

/** What the citizen declares, as validated. */
export type DocumentMetadata = z.output<typeof DocumentMetadataSchema>;
/** A document as the API answers it: what the service builds (before parsing). */
export type DocumentView = z.input<typeof DocumentSchema>;
export type DocumentPageView = z.input<typeof DocumentPageSchema>;
export type DocumentListFilter = z.output<typeof DocumentListQuery>;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

/** The encrypted container as stored (download). */
export const PayloadSchema = z.string().openapi({ format: 'binary' });

export const ROUTING_OUTCOMES = ['ROUTED', 'UNROUTABLE'] as const;
export const UNROUTABLE_REASONS = ['no-unit', 'unknown-authority'] as const;

export const RoutingResultSchema = z
  .object({
    documentId: Uuid,
    outcome: z.enum(ROUTING_OUTCOMES).openapi({
      description: '`ROUTED`: `unitId` takes the document; `UNROUTABLE`: no unit could be chosen (see `reason`).',
    }),
    unitId: UnitId.nullable().openapi({ description: 'The unit the document is routed to; `null` while it is unroutable.' }),
    ruleId: Uuid.nullable().openapi({ description: 'The routing rule that matched; `null` for the default unit or when unroutable.' }),
    reason: z
      .enum(UNROUTABLE_REASONS)
      .nullable()
      .openapi({
        // the generator widens the type to include null but not the enum
        enum: [...UNROUTABLE_REASONS, null],
        description:
          'Why the document is unroutable: `no-unit` (the authority has no unit yet) or `unknown-authority`; `null` when routed.',
      }),
    changed: z.boolean().openapi({
      description:
        'Whether this request changed the routing (then `document.routed` was published); `false` when the rules give the same unit again.',
    }),
  })
  .openapi('RoutingResult', { description: "A document's routing as the routing engine decided it just now." });

export type RoutingResultView = z.input<typeof RoutingResultSchema>;
