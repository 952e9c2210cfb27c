import { AuthorityId, DocumentType, REGION_KEY_PREFIX_PATTERN, ServiceKey, Timestamp, UnitId, pageOf, plainTextSchema } from './common';
import { z } from './zod';

const PRIORITY_DESCRIPTION =
  'Rules are evaluated by ascending priority; the first match wins. Equal priorities: the rule created first wins (then the smaller id).';
export const RULE_PRIORITY_LIMIT = 1_000_000;
const Priority = z
  .number()
  .int('must be an integer')
  .min(-RULE_PRIORITY_LIMIT)
  .max(RULE_PRIORITY_LIMIT)
  .openapi({ description: PRIORITY_DESCRIPTION, example: 10 });

export const RoutingRuleConditionsSchema = z
  .object({
    documentType: DocumentType.openapi({ description: 'Exact match.' }),
    serviceKey: ServiceKey.openapi({ description: 'Exact match (LeiKa, 14 digits).' }),
    regionKeyPrefix: z
      .string()
      .regex(REGION_KEY_PREFIX_PATTERN, 'must be 1 to 12 digits (a prefix of the ARS)')
      .openapi({ description: "Prefix of the document's 12-digit `regionKey` (ARS).", example: '09162' }),
    referenceNumberPrefix: plainTextSchema(50, "Prefix of the document's `referenceNumber`, compared case-insensitively.").openapi({
      example: 'WG-',
    }),
  })
  .partial()
  .strict()
  .refine((c) => Object.keys(c).length > 0, 'at least one condition is required')
  .openapi('RoutingRuleConditions', { description: 'All given conditions must hold for the rule to match.', minProperties: 1 });

export const RoutingRuleInputSchema = z
  .object({
    priority: Priority,
    conditions: RoutingRuleConditionsSchema,
    targetUnitId: UnitId.openapi({ description: 'Must be a unit of this authority.' }),
  })
  .strict()
  .openapi('RoutingRuleInput');

export const RoutingRuleSchema = z
  .object({
    id: z.string().openapi({ description: 'Opaque rule id.' }),
    authorityId: AuthorityId,
    priority: Priority,
    conditions: RoutingRuleConditionsSchema,
    targetUnitId: UnitId,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('RoutingRule');

export const RoutingRulePageSchema = pageOf('RoutingRulePage', RoutingRuleSchema, 'Routing rules in evaluation order.');

export const RuleParams = z.object({
  id: AuthorityId.openapi({ param: { description: 'Authority id.' } }),
  ruleId: z.string().openapi({ param: { description: 'Routing rule id.' } }),
});

export type RoutingRuleConditions = z.output<typeof RoutingRuleConditionsSchema>;
export type RoutingRuleInput = z.output<typeof RoutingRuleInputSchema>;
export type RoutingRuleView = z.input<typeof RoutingRuleSchema>;
export type RoutingRulePageView = z.input<typeof RoutingRulePageSchema>;
