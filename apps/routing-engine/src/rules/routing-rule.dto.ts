import { z } from 'zod';
import { plainText } from '@dvd/platform';
import { UNIT_ID } from '../authorities/authority.dto';

export const routingRuleSchema = z
  .object({
    priority: z.number().int('must be an integer').min(-1_000_000).max(1_000_000),
    conditions: z
      .object({
        documentType: z.string().regex(/^[A-Z0-9_]{1,40}$/, 'must match [A-Z0-9_]{1,40}'),
        serviceKey: z.string().regex(/^\d{14}$/, 'must be a 14-digit LeiKa key'),
        regionKeyPrefix: z.string().regex(/^\d{1,12}$/, 'must be 1 to 12 digits (a prefix of the ARS)'),
        referenceNumberPrefix: plainText({ max: 50 }),
      })
      .partial()
      .strict()
      .refine((c) => Object.keys(c).length > 0, 'at least one condition is required'),
    targetUnitId: z.string().regex(UNIT_ID),
  })
  .strict();
export type RoutingRuleInput = z.output<typeof routingRuleSchema>;
