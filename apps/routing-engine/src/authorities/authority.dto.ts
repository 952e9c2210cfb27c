import { z } from 'zod';
import { checkTargetUrl, parseRetentionPeriod, plainText } from '@dvd/platform';

export const AUTHORITY_ID = /^[a-z0-9-]{2,50}$/;
export const UNIT_ID = /^[a-z0-9-]{1,50}$/;

/** During a rotation the previous secret stays valid this long unless the admin says otherwise … */
export const DEFAULT_PREVIOUS_SECRET_TTL_MS = 24 * 3600_000;
/** … and at most this long. */
export const MAX_PREVIOUS_SECRET_TTL_MS = 30 * 24 * 3600_000;

const name = plainText({ max: 200, trim: true });
/** Standard Webhooks secret: `whsec_` + base64 of 24–64 random bytes. */
const ingestSecret = z.string().refine((v) => {
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(v);
  if (!m) return false;
  const n = Buffer.from(m[1], 'base64').length;
  return n >= 24 && n <= 64;
}, 'must be "whsec_" followed by base64 of 24 to 64 random bytes');
const retentionPeriod = z.string().refine((v) => parseRetentionPeriod(v) !== null, 'must be a positive ISO-8601 duration such as P180D');

/**
 * The request schemas. The ingest URL is checked against the outbound policy: https only,
 * no credentials, no IP literal or name of a non-public address (unless the development
 * switch EXPORT_ALLOW_PRIVATE_TARGETS is on). The export worker checks again at connect time.
 */
export function authoritySchemas(allowPrivateTargets: boolean) {
  const ingestUrl = z
    .string()
    .max(2000)
    .superRefine((v, ctx) => {
      const problem = checkTargetUrl(v, allowPrivateTargets);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    });
  const create = z
    .object({ id: z.string().regex(AUTHORITY_ID, 'must match [a-z0-9-]{2,50}'), name, ingestUrl, ingestSecret, retentionPeriod })
    .strict();
  const patch = z
    .object({ name, ingestUrl, ingestSecret, retentionPeriod, defaultUnitId: z.string().regex(UNIT_ID) })
    .partial()
    .strict()
    .refine((v) => Object.keys(v).length > 0, 'at least one field must be given');
  const rotateSecret = z
    .object({
      ingestSecret,
      previousSecretExpiresAt: z
        .string()
        .datetime({ offset: true })
        .transform((v) => new Date(v))
        .refine((d) => d.getTime() > Date.now(), 'must be in the future')
        .refine((d) => d.getTime() <= Date.now() + MAX_PREVIOUS_SECRET_TTL_MS, 'must be at most 30 days ahead')
        .optional(),
    })
    .strict();
  return { create, patch, rotateSecret };
}

type Schemas = ReturnType<typeof authoritySchemas>;
export type CreateAuthority = z.output<Schemas['create']>;
export type PatchAuthority = z.output<Schemas['patch']>;
export type RotateIngestSecret = z.output<Schemas['rotateSecret']>;

export const createUnitSchema = z.object({ id: z.string().regex(UNIT_ID, 'must match [a-z0-9-]{1,50}'), name }).strict();
