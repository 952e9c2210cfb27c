import { AuthorityId, INGEST_SECRET_PATTERN, ISO_DURATION_PATTERN, Timestamp, UnitId, Uuid, plainTextSchema } from './common';
import { z } from './zod';

export const RETENTION_PERIOD_RULE = 'must be a positive ISO-8601 duration such as P180D';
const RetentionPeriod = z
  .string()
  .max(40, RETENTION_PERIOD_RULE)
  .regex(ISO_DURATION_PATTERN, RETENTION_PERIOD_RULE)
  .openapi({
    description:
      'ISO 8601 duration after which a document and everything belonging to it is purged (`P180D`; `PT5S` is valid too). ' +
      'At most 40 characters; a zero duration (`P0D`) is refused. ' +
      "Each document's `retentionDate` is its creation time plus this period.",
    example: 'P180D',
  });
export const CLAIM_DEADLINE_RULE = 'must be a positive ISO-8601 duration such as P3D';
/** How long a routed document may wait for a claim or a decision, unless the authority says otherwise. */
export const DEFAULT_CLAIM_DEADLINE = 'P3D';
const ClaimDeadline = z
  .string()
  .max(40, CLAIM_DEADLINE_RULE)
  .regex(ISO_DURATION_PATTERN, CLAIM_DEADLINE_RULE)
  .openapi({
    description:
      'ISO 8601 duration a routed document may wait for an official to claim a thread of it, or for a decision, before it ' +
      'is reported overdue once (`overdue: true` on the document, the `document.overdue` event). Default `P3D`; at most ' +
      "40 characters, a zero duration is refused. A document's deadline is fixed when it is first routed: a change applies " +
      'to documents routed afterwards.',
    example: 'P3D',
  });
const IngestUrl = z
  .string()
  .url()
  .max(2000)
  .openapi({
    description:
      'Where export packages are delivered as Standard Webhooks messages (see the `exportPackage` webhook). `https` only, no ' +
      'credentials in the URL, and it must resolve to public addresses: loopback, private, link-local (incl. ' +
      '169.254.169.254), unique-local, CGNAT, multicast and unspecified addresses are refused here (IP literals, ' +
      '`localhost`) and, after DNS resolution, at every delivery.',
    example: 'https://fachverfahren.musterstadt.de/dvd/ingest',
  });
export const INGEST_SECRET_RULE = 'must be "whsec_" followed by base64 of 24 to 64 random bytes';
const IngestSecret = z
  .string()
  .regex(INGEST_SECRET_PATTERN, INGEST_SECRET_RULE)
  .openapi({
    writeOnly: true,
    description:
      'Standard Webhooks signing secret: `whsec_` followed by the base64 of 24–64 random bytes. Write-only: never returned; ' +
      'stored encrypted (AES-256-GCM).',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  });
const Name = plainTextSchema(200, undefined, { trim: true }).openapi({ example: 'Stadt Musterstadt' });

export const UnitSchema = z.object({ id: UnitId, name: z.string().openapi({ example: 'Bürgeramt' }) }).openapi('Unit');
export const UnitCreateSchema = z
  .object({
    id: UnitId.openapi({ description: 'Unique within the authority.' }),
    name: plainTextSchema(200, undefined, { trim: true }).openapi({ example: 'Bürgeramt' }),
  })
  .strict()
  .openapi('UnitCreate');
export const UnitCreatedSchema = UnitSchema.extend({
  isDefault: z.boolean().openapi({ description: "Whether the unit became the authority's `defaultUnitId` (the first unit does)." }),
}).openapi('UnitCreated');

export const IngestSecretInfoSchema = z
  .object({
    id: Uuid,
    createdAt: Timestamp,
    expiresAt: Timestamp.nullable().openapi({
      description: '`null` for the current secret; for the previous one during a rotation, when it stops being used.',
    }),
  })
  .openapi('IngestSecretInfo', { description: 'An active ingest secret, described; the secret itself is never returned.' });

export const AuthoritySchema = z
  .object({
    id: AuthorityId,
    name: z.string().openapi({ example: 'Stadt Musterstadt' }),
    units: z.array(UnitSchema),
    retentionPeriod: RetentionPeriod,
    claimDeadline: ClaimDeadline,
    defaultUnitId: UnitId.nullable().openapi({
      description:
        'Where documents go that no routing rule matches. The first unit created becomes the default until changed; `null` ' +
        'while the authority has no unit.',
    }),
    ingestUrl: IngestUrl.optional().openapi({ readOnly: true, description: 'Admins of the authority only.' }),
    ingestSecrets: z.array(IngestSecretInfoSchema).max(2).optional().openapi({
      readOnly: true,
      description: 'Admins of the authority only: the active ingest secrets (current first), without the secrets.',
    }),
  })
  .openapi('Authority', {
    description: 'An authority. `ingestUrl` and `ingestSecrets` only for its admins; the secrets themselves never.',
  });

export const AuthorityCreateSchema = z
  .object({
    id: AuthorityId,
    name: Name,
    ingestUrl: IngestUrl,
    ingestSecret: IngestSecret,
    retentionPeriod: RetentionPeriod,
    claimDeadline: ClaimDeadline.default(DEFAULT_CLAIM_DEADLINE),
  })
  .strict()
  .openapi('AuthorityCreate');

export const AuthorityPatchSchema = z
  .object({
    name: Name,
    ingestUrl: IngestUrl,
    ingestSecret: IngestSecret,
    retentionPeriod: RetentionPeriod,
    claimDeadline: ClaimDeadline,
    defaultUnitId: UnitId.openapi({ description: 'Must be a unit of this authority.' }),
  })
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'at least one field must be given')
  .openapi('AuthorityPatch', { description: 'The fields to change; fields left out stay as they are.', minProperties: 1 });

export const IngestSecretRotationSchema = z
  .object({
    ingestSecret: IngestSecret,
    previousSecretExpiresAt: Timestamp.optional().openapi({
      description: 'Until when the current secret keeps signing too (in the future, at most 30 days ahead). Default: 24 hours from now.',
    }),
  })
  .strict()
  .openapi('IngestSecretRotation');

export const IngestSecretListSchema = z.object({ ingestSecrets: z.array(IngestSecretInfoSchema).max(2) }).openapi('IngestSecretList');

export const AuthorityParams = z.object({
  id: AuthorityId.openapi({ param: { description: 'Authority id.' } }),
});

export type UnitView = z.input<typeof UnitSchema>;
export type UnitCreatedView = z.input<typeof UnitCreatedSchema>;
export type IngestSecretInfoView = z.input<typeof IngestSecretInfoSchema>;
export type IngestSecretListView = z.input<typeof IngestSecretListSchema>;
/** An authority as the API answers it; `ingestUrl` and `ingestSecrets` only for its admins. */
export type AuthorityView = z.input<typeof AuthoritySchema>;
export type AuthorityCreateInput = z.output<typeof AuthorityCreateSchema>;
export type AuthorityPatchInput = z.output<typeof AuthorityPatchSchema>;
export type IngestSecretRotationInput = z.output<typeof IngestSecretRotationSchema>;
export type UnitCreateInput = z.output<typeof UnitCreateSchema>;
