import { z } from './zod';

const SAFE_TEXT = /^[^\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]*$/;
export const PLAIN_TEXT_RULE =
  'Single-line text: control, bidirectional and zero-width characters (U+0000–U+001F, U+007F–U+009F, U+061C, ' +
  'U+200B–U+200F, U+2028–U+202E, U+2060–U+2069, U+FEFF) are refused (400).';

export const TRIM_RULE = 'Leading and trailing white space is removed first.';

/**
 * A single-line, length-bounded text without control, bidirectional or zero-width characters.
 * With `trim`, surrounding white space is removed before the length is checked (names).
 */
export function plainTextSchema(max: number, description?: string, options: { trim?: boolean } = {}) {
  const rules = options.trim ? `${PLAIN_TEXT_RULE} ${TRIM_RULE}` : PLAIN_TEXT_RULE;
  return (options.trim ? z.string().trim() : z.string())
    .min(1)
    .max(max)
    .regex(SAFE_TEXT, 'must not contain control, bidirectional or invisible (zero-width) characters')
    .openapi({ description: description ? `${description} ${rules}` : rules });
}

export const AUTHORITY_ID_PATTERN = /^[a-z0-9-]{2,50}$/;
export const UNIT_ID_PATTERN = /^[a-z0-9-]{1,50}$/;
export const DOCUMENT_TYPE_PATTERN = /^[A-Z0-9_]{1,40}$/;
export const SERVICE_KEY_PATTERN = /^[0-9]{14}$/;
export const REGION_KEY_PATTERN = /^[0-9]{12}$/;
export const REGION_KEY_PREFIX_PATTERN = /^[0-9]{1,12}$/;
export const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;
/** ISO 8601 duration with at least one component, e.g. `P180D`, `PT5S`, `P1Y6M`. */
export const ISO_DURATION_PATTERN = /^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
/** `whsec_` and the base64 of 24 to 64 bytes: 32 to 86 base64 characters (then optional padding). */
export const INGEST_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]{32,86}={0,2}$/;
/** base64 or base64url, optionally padded. */
export const BASE64_PATTERN = /^[A-Za-z0-9+/_-]*={0,2}$/;
/** A header value of printable ASCII (`Idempotency-Key`). */
export const PRINTABLE_ASCII_PATTERN = /^[\x20-\x7e]+$/;

export const AuthorityId = z.string().regex(AUTHORITY_ID_PATTERN, 'must match [a-z0-9-]{2,50}').openapi({ example: 'stadt-musterstadt' });
export const UnitId = z.string().regex(UNIT_ID_PATTERN, 'must match [a-z0-9-]{1,50}').openapi({ example: 'buergeramt' });
export const Uuid = z.string().uuid().openapi({ example: '0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10' });
export const Timestamp = z
  .string()
  .datetime({ offset: true, message: 'must be an RFC 3339 date-time' })
  .openapi({ description: 'RFC 3339, UTC.', example: '2025-01-31T09:30:00Z' });
export const DocumentType = z.string().regex(DOCUMENT_TYPE_PATTERN, 'must match [A-Z0-9_]{1,40}').openapi({ example: 'WOHNGELD_ANTRAG' });
export const ServiceKey = z
  .string()
  .regex(SERVICE_KEY_PATTERN, 'must be 14 digits (LeiKa)')
  .openapi({ description: 'LeiKa service key (14 digits).', example: '99108008000000' });
export const RegionKey = z
  .string()
  .regex(REGION_KEY_PATTERN, 'must be 12 digits (ARS)')
  .openapi({ description: 'Amtlicher Regionalschlüssel (ARS, 12 digits).', example: '091620000000' });
export const ReferenceNumber = plainTextSchema(50, 'The Aktenzeichen (file reference). Personal data: never logged.').openapi({
  example: 'WG-2025-000123',
});
export const JWE_DESCRIPTION =
  'A JWE in compact serialization (or its JSON serialization as a string) with `alg` `RSA-OAEP-256`, `ECDH-ES` or ' +
  '`ECDH-ES+A256KW` and `enc` `A256GCM`. The server checks the structure only and never decrypts.';
export const Jwe = z.string().openapi({ description: JWE_DESCRIPTION });

/** Paging query (docs/api-conventions.md): `limit` 1–100 (default 20), opaque `cursor`. */
export const Limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(100)
  .default(20)
  .openapi({ param: { name: 'limit', in: 'query', description: 'Page size.' }, example: 20 });
export const Cursor = z
  .string()
  .max(500)
  .optional()
  .openapi({
    param: {
      name: 'cursor',
      in: 'query',
      description: 'Opaque cursor from `nextCursor` of the previous page. Stable under inserts. Any other value is answered with 400.',
    },
  });
export const pageQueryShape = { limit: Limit, cursor: Cursor };
export const PageQuery = z.object(pageQueryShape);

/** A cursor page `{ items, nextCursor }` of the given item schema. */
export function pageOf<T extends z.ZodTypeAny>(name: string, item: T, description: string) {
  return z
    .object({
      items: z.array(item),
      nextCursor: z.string().nullable().openapi({ description: 'Opaque cursor for the next page; `null` on the last page.' }),
    })
    .strict()
    .openapi(name, { description });
}

export const IdempotencyKey = z
  .string()
  .min(1, 'must be 1 to 100 printable ASCII characters')
  .max(100, 'must be 1 to 100 printable ASCII characters')
  .regex(PRINTABLE_ASCII_PATTERN, 'must be 1 to 100 printable ASCII characters')
  .optional()
  .openapi({
    param: {
      name: 'Idempotency-Key',
      in: 'header',
      description:
        'Makes the request safe to retry (IETF *Idempotency-Key* header draft): 1 to 100 printable ASCII characters. The same key from the same caller within ' +
        '24 h returns the first response again and creates nothing new; the same key with a different body → `422`; a ' +
        'duplicate arriving while the first is still in flight → `409`.',
    },
    example: '5f1d7a3c-1f0e-4a9e-8d7e-2b6f0c4d9a11',
  });
export const IfNoneMatch = z
  .string()
  .optional()
  .openapi({
    param: {
      name: 'If-None-Match',
      in: 'header',
      description: 'An `ETag` from an earlier response; if it still matches, the answer is `304`.',
    },
    example: '"3f2a9c"',
  });
export const RequestIdParam = z
  .string()
  .max(128)
  .optional()
  .openapi({
    param: {
      name: 'X-Request-Id',
      in: 'header',
      description:
        'Optional client-chosen request id, echoed in the response and logs if it matches `^[A-Za-z0-9._:-]{1,128}$` ' +
        '(otherwise replaced by a fresh one).',
    },
    example: 'req-1234',
  });
