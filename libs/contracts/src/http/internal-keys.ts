import { z } from './zod';

/**
 * routing-engine's key directory for intake (`GET /internal/authorities/{id}/active-kids`):
 * the authority's active key ids, read on every upload (ADR 0010). Bounded: an authority
 * has a handful of keys. Internal: not in the public OpenAPI document.
 */
export const InternalActiveKeysSchema = z.object({
  authorityId: z.string().max(100),
  activeKeyIds: z.array(z.string().max(256)).max(1000),
});

export type InternalActiveKeys = z.input<typeof InternalActiveKeysSchema>;
