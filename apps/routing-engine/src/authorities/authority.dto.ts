import { z } from 'zod';
import { parseRetentionPeriod } from '@dvd/platform';

export const AUTHORITY_ID = /^[a-z0-9-]{2,50}$/;
export const UNIT_ID = /^[a-z0-9-]{1,50}$/;

const name = z.string().trim().min(1).max(200);
const ingestUrl = z
  .string()
  .max(2000)
  .url()
  .refine((v) => ['http:', 'https:'].includes(new URL(v).protocol), 'must be an http(s) URL');
/** Standard Webhooks secret: `whsec_` + base64 of 24–64 random bytes. */
const ingestSecret = z.string().refine((v) => {
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(v);
  if (!m) return false;
  const n = Buffer.from(m[1], 'base64').length;
  return n >= 24 && n <= 64;
}, 'must be "whsec_" followed by base64 of 24 to 64 random bytes');
const retentionPeriod = z.string().refine((v) => parseRetentionPeriod(v) !== null, 'must be a positive ISO-8601 duration such as P180D');

export const createAuthoritySchema = z
  .object({ id: z.string().regex(AUTHORITY_ID, 'must match [a-z0-9-]{2,50}'), name, ingestUrl, ingestSecret, retentionPeriod })
  .strict();
export type CreateAuthority = z.output<typeof createAuthoritySchema>;

export const patchAuthoritySchema = z
  .object({ name, ingestUrl, ingestSecret, retentionPeriod, defaultUnitId: z.string().regex(UNIT_ID) })
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'at least one field must be given');
export type PatchAuthority = z.output<typeof patchAuthoritySchema>;

export const createUnitSchema = z.object({ id: z.string().regex(UNIT_ID, 'must match [a-z0-9-]{1,50}'), name }).strict();
