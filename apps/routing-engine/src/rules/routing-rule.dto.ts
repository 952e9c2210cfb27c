import { z } from 'zod';
import { RoutingRuleInputSchema } from '@dvd/contracts';

/** The contract's shape (libs/contracts/src/http/rules.ts): the OpenAPI document and the validation cannot drift apart. */
export const routingRuleSchema = RoutingRuleInputSchema;
export type RoutingRuleInput = z.output<typeof routingRuleSchema>;
