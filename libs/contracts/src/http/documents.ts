import {
  AuthorityId,
  BASE64_PATTERN,
  DocumentType,
  JWE_DESCRIPTION,
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

/**
 * Progress (`RECEIVED` → `ROUTED` → `ASSIGNED` → `EXPORTED`, moved forward by events) and the
 * authority's decision (`ACCEPTED`, `REJECTED`, `FORWARDED`), which is final
 * (docs/case-workflow.md, ADR 0019).
 */
export const DOCUMENT_STATUSES = ['RECEIVED', 'ROUTED', 'ASSIGNED', 'EXPORTED', 'ACCEPTED', 'REJECTED', 'FORWARDED'] as const;
export const PROGRESS_STATUSES = ['RECEIVED', 'ROUTED', 'ASSIGNED', 'EXPORTED'] as const;
export const DECISION_STATUSES = ['ACCEPTED', 'REJECTED', 'FORWARDED'] as const;
/** Why an authority rejects a document (a fixed list: the citizen's app can explain each). */
export const REJECT_REASON_CODES = ['NOT_RESPONSIBLE', 'INCOMPLETE', 'UNREADABLE', 'DUPLICATE', 'OTHER'] as const;
/** Who made a step of a document's history: a role, or the platform itself (routing, export). */
export const HISTORY_ACTOR_ROLES = ['citizen', 'official', 'admin', 'platform-admin', 'system'] as const;
/** The largest rejection note (a JWE), in characters. */
export const MAX_REJECT_NOTE_CHARS = 64 * 1024;
/** `typ` of a signed receipt (a compact JWS). */
export const RECEIPT_TYP = 'dvd-receipt+jwt';
export const RECEIPT_ALGORITHMS = ['EdDSA', 'ES256'] as const;
/**
 * The statuses that record a decision (accept, reject, forward): a decided document is never
 * overdue and is not re-routed.
 */
export const DECIDED_STATUSES: readonly string[] = DECISION_STATUSES;
export const isDecidedStatus = (status: string): boolean => DECIDED_STATUSES.includes(status);
export const MIB = 1024 * 1024;

/** The declared length of `encryptedPayload` in an upload's or a forward's metadata (ADR 0026). */
const PayloadSize = z
  .number()
  .int()
  .min(1)
  .max(Number.MAX_SAFE_INTEGER)
  .openapi({
    format: 'int64',
    description:
      'Bytes of `encryptedPayload`, declared up front (recommended; the SDK always sends it). A payload of another ' +
      'length is refused with `400` and nothing is stored; more than `MAX_UPLOAD_BYTES` is refused with `413` before ' +
      'a byte of it is read. With it the payload is streamed to object storage in one piece rather than in parts, ' +
      'which is faster (ADR 0026). Not part of what an Idempotency-Key compares: the payload itself is.',
  });

export const DocumentMetadataSchema = z
  .object({
    referenceNumber: ReferenceNumber,
    authorityId: AuthorityId.openapi({ description: 'Must be a registered authority.' }),
    documentType: DocumentType,
    serviceKey: ServiceKey.optional(),
    regionKey: RegionKey.optional(),
    replyKey: JwkSchema.optional().openapi({ description: "The citizen's public JWK; officials encrypt replies to it." }),
    payloadSize: PayloadSize.optional(),
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

export const RejectReasonCode = z.enum(REJECT_REASON_CODES).openapi('RejectReasonCode', {
  description:
    'Why the authority rejects the document: `NOT_RESPONSIBLE` (another authority is responsible), `INCOMPLETE` (documents ' +
    'or information are missing), `UNREADABLE` (the file cannot be read), `DUPLICATE` (sent before), `OTHER` (see the note).',
});

export const RejectionSchema = z
  .object({
    reasonCode: RejectReasonCode,
    note: z.string().nullable().openapi({
      description: 'A JWE for the citizen (encrypted to their `replyKey`) explaining the rejection; `null` if none was given.',
    }),
  })
  .openapi('Rejection', { description: "The authority's rejection of a document." });

export const DocumentSchema = z
  .object({
    id: Uuid,
    status: z.enum(DOCUMENT_STATUSES).openapi({
      description:
        'Progress: `RECEIVED` → `ROUTED` (the routing engine chose `unitId`) → `ASSIGNED` (an official claimed a thread of it) → ' +
        '`EXPORTED` (an export completed). A decision of the authority replaces it for good: `ACCEPTED`, `REJECTED` (see ' +
        '`rejection`) or `FORWARDED` (to another authority, see `forwardedTo`); later progress is kept in the history only. ' +
        'See `GET /documents/{id}/history`.',
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
    // a union with null, described as a plain anyOf (as `replyKey`): `.nullable()` would rename the registered schema
    rejection: z.union([RejectionSchema, z.null()]).openapi({
      anyOf: [{ $ref: '#/components/schemas/Rejection' }, { type: 'null' }],
      description: 'Set when `status` is `REJECTED`.',
    }),
    forwardedFrom: Uuid.nullable().openapi({
      description: 'The document this one was forwarded from (by the authority it was first sent to); `null` for an upload.',
    }),
    forwardedTo: Uuid.nullable().openapi({
      description: 'The document created when this one was forwarded to another authority (`status` `FORWARDED`); otherwise `null`.',
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
export const ReceiptJws = z.string().openapi({
  description:
    'The signed receipt: a compact JWS (`typ` `dvd-receipt+jwt`, `alg` `EdDSA` or `ES256`, `kid` of a key of ' +
    '`GET /.well-known/jwks.json`) whose payload is a `ReceiptClaims` object. No Aktenzeichen, no names: it may be shown to others.',
  example: 'eyJhbGciOiJFZERTQSIsInR5cCI6ImR2ZC1yZWNlaXB0K2p3dCIsImtpZCI6InIxIn0.eyJpc3MiOiJodHRwczovL2R2ZC5leGFtcGxlIn0.c2ln',
});

export const DocumentCreatedSchema = DocumentSchema.extend({ receipt: ReceiptJws }).openapi('DocumentCreated', {
  description: 'The stored document and its signed receipt.',
});

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

// ---- receipts ------------------------------------------------------------------------------

export const ReceiptClaimsSchema = z
  .object({
    iss: z.string().openapi({ description: "The platform's public URL (`PUBLIC_BASE_URL`).", example: 'https://dvd.example' }),
    sub: Uuid.openapi({ description: 'The document id.' }),
    iat: z.number().int().openapi({ description: 'When the document was stored (seconds since the epoch).' }),
    authorityId: AuthorityId,
    documentType: DocumentType,
    payload: z
      .object({
        size: z.number().int().min(0).openapi({ format: 'int64', description: 'Bytes of the stored container.' }),
        sha256: z.string().regex(SHA256_HEX_PATTERN).openapi({ description: 'SHA-256 of the stored container, lowercase hex.' }),
      })
      .strict(),
    payloadKid: z.string().openapi({
      description:
        "The `kid` of the authority's encryption key the container was made for (from the JWE header; the JWS header's " +
        '`kid` names the signing key).',
    }),
  })
  .strict()
  .openapi('ReceiptClaims', {
    description:
      'The payload of a signed receipt. Verify the JWS with a key of `GET /.well-known/jwks.json` (the `kid` of its header), ' +
      'check `typ` `dvd-receipt+jwt` and `iss`, then compare `sub` and `payload` with what you sent.',
  });

export const DocumentReceiptSchema = z
  .object({
    documentId: Uuid,
    receipt: ReceiptJws,
    claims: ReceiptClaimsSchema.openapi({
      description: "The receipt's claims, decoded for convenience: trust them only after verifying `receipt`.",
    }),
  })
  .strict()
  .openapi('DocumentReceipt', { description: 'The signed receipt of a document, identical to the one the upload answered.' });

export const ReceiptSigningKeySchema = z
  .object({
    kty: z.enum(['OKP', 'EC']),
    crv: z.enum(['Ed25519', 'P-256']),
    x: z.string(),
    y: z.string().optional(),
    kid: z.string(),
    alg: z.enum(RECEIPT_ALGORITHMS),
    use: z.literal('sig'),
  })
  .strict()
  .openapi('ReceiptSigningKey', { description: 'A public key that signs receipts (Ed25519 with `EdDSA`, or P-256 with `ES256`).' });

export const ReceiptJwksSchema = z
  .object({ keys: z.array(ReceiptSigningKeySchema) })
  .strict()
  .openapi('ReceiptJwks', {
    description:
      "The platform's public receipt signing keys: the current one first, then every retired key that signed a receipt of " +
      'a document that still exists.',
  });

// ---- decisions -----------------------------------------------------------------------------

export const DocumentRejectSchema = z
  .object({
    reasonCode: RejectReasonCode,
    note: z
      .string()
      .min(1)
      .max(MAX_REJECT_NOTE_CHARS)
      .optional()
      .openapi({
        description: `A note for the citizen, encrypted to their \`replyKey\` (never plain text): ${JWE_DESCRIPTION} Any \`kid\`; at most 64 KiB.`,
      }),
  })
  .strict()
  .openapi('DocumentReject', { description: 'Why the document is rejected. Unknown fields → `400`.' });

export const DocumentForwardMetadataSchema = z
  .object({
    targetAuthorityId: AuthorityId.openapi({ description: 'The authority that is responsible; must be registered and another one.' }),
    payloadSize: PayloadSize.optional(),
  })
  .strict()
  .openapi('DocumentForwardMetadata', { description: 'Where the document goes. Unknown fields → `400`.' });

export const DocumentForwardMultipartSchema = z
  .object({
    metadata: DocumentForwardMetadataSchema.openapi({
      description: 'The target as JSON: a part of type `application/json` or a plain form field. Must be the first part.',
    }),
    encryptedPayload: z.string().openapi({
      format: 'binary',
      description:
        "The document's payload, decrypted and re-encrypted on the official's device for the target authority: a JWE as for " +
        'an upload, whose `kid` is an active key of the target authority. At most `MAX_UPLOAD_BYTES`.',
    }),
  })
  .openapi('DocumentForwardMultipart', {
    description: 'Streaming like an upload: `metadata` first, then `encryptedPayload`, streamed to object storage.',
  });

export const DocumentForwardedSchema = z
  .object({
    document: DocumentSchema.openapi({ description: 'The original document, now `FORWARDED`.' }),
    forwarded: z
      .object({
        id: Uuid.openapi({ description: 'The new document at the target authority (same citizen, `forwardedFrom` = the original).' }),
        authorityId: AuthorityId,
        payload: z.object({
          size: z.number().int().min(0).openapi({ format: 'int64' }),
          sha256: z.string().regex(SHA256_HEX_PATTERN),
        }),
        receipt: ReceiptJws,
      })
      .strict(),
  })
  .strict()
  .openapi('DocumentForwarded', { description: 'The forwarded original and the new document it became.' });

// ---- history -------------------------------------------------------------------------------

export const DocumentHistoryEntrySchema = z
  .object({
    state: z.enum(DOCUMENT_STATUSES).openapi({ description: 'The step: a status the document reached, or a later export (`EXPORTED`).' }),
    at: Timestamp,
    actorRole: z.enum(HISTORY_ACTOR_ROLES).openapi({
      description: 'Who made the step: a role (never a name or user id), or `system` for the platform (routing, export).',
    }),
    reasonCode: RejectReasonCode.optional().openapi({ description: 'For `REJECTED`: the reason.' }),
  })
  .strict()
  .openapi('DocumentHistoryEntry');

export const DocumentHistoryPageSchema = pageOf(
  'DocumentHistoryPage',
  DocumentHistoryEntrySchema,
  "A page of a document's history, oldest first.",
);
export const DocumentHistoryQuery = z.object(pageQueryShape);

/** What the citizen declares, as validated. */
export type DocumentMetadata = z.output<typeof DocumentMetadataSchema>;
/** A document as the API answers it: what the service builds (before parsing). */
export type DocumentView = z.input<typeof DocumentSchema>;
export type DocumentPageView = z.input<typeof DocumentPageSchema>;
export type DocumentListFilter = z.output<typeof DocumentListQuery>;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];
export type DecisionStatus = (typeof DECISION_STATUSES)[number];
export type RejectReason = (typeof REJECT_REASON_CODES)[number];
export type HistoryActorRole = (typeof HISTORY_ACTOR_ROLES)[number];
export type DocumentCreatedView = z.input<typeof DocumentCreatedSchema>;
export type DocumentReceiptView = z.input<typeof DocumentReceiptSchema>;
export type ReceiptClaims = z.output<typeof ReceiptClaimsSchema>;
export type ReceiptJwksView = z.input<typeof ReceiptJwksSchema>;
export type DocumentRejectInput = z.output<typeof DocumentRejectSchema>;
export type DocumentForwardMetadata = z.output<typeof DocumentForwardMetadataSchema>;
export type DocumentForwardedView = z.input<typeof DocumentForwardedSchema>;
export type DocumentHistoryEntryView = z.input<typeof DocumentHistoryEntrySchema>;
export type DocumentHistoryPageView = z.input<typeof DocumentHistoryPageSchema>;

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
