import { z } from 'zod';
import { plainText } from '@dvd/platform';

/** The `metadata` part (docs/api-conventions.md, Uploads). Unknown fields are refused. */
export const documentMetadataSchema = z
  .object({
    referenceNumber: plainText({ max: 50 }),
    authorityId: z.string().regex(/^[a-z0-9-]{2,50}$/, 'must match [a-z0-9-]{2,50}'),
    documentType: z.string().regex(/^[A-Z0-9_]{1,40}$/, 'must match [A-Z0-9_]{1,40}'),
    serviceKey: z
      .string()
      .regex(/^\d{14}$/, 'must be 14 digits (LeiKa)')
      .optional(),
    regionKey: z
      .string()
      .regex(/^\d{12}$/, 'must be 12 digits (ARS)')
      .optional(),
    replyKey: z.record(z.unknown()).optional(),
  })
  .strict();

export type DocumentMetadata = z.output<typeof documentMetadataSchema>;

/** Canonical JSON (sorted keys) for fingerprints. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
