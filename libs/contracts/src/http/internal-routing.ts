import { AuthorityId, DocumentType, ReferenceNumber, RegionKey, ServiceKey } from './common';
import { RoutingResultSchema } from './documents';
import { z } from './zod';

/**
 * routing-engine's re-routing API for intake (`POST /internal/routing-decisions/{documentId}`):
 * intake, which owns the document and its status, sends what the rules look at; the
 * routing engine decides again and answers. Internal: not in the public OpenAPI document.
 */
export const InternalRerouteRequestSchema = z
  .object({
    authorityId: AuthorityId,
    documentType: DocumentType,
    serviceKey: ServiceKey.nullable(),
    regionKey: RegionKey.nullable(),
    /** The Aktenzeichen, for `referenceNumberPrefix` rules. Never logged. */
    referenceNumber: ReferenceNumber,
  })
  .strict();

/** The public routing result, plus what intake applies at once: the decision's revision and the claim deadline. */
export const InternalRoutingResultSchema = RoutingResultSchema.extend({
  authorityId: z.string().max(100),
  revision: z.number().int().min(1),
  claimDeadline: z.string().max(40),
});

export type InternalRerouteRequest = z.output<typeof InternalRerouteRequestSchema>;
export type InternalRoutingResult = z.input<typeof InternalRoutingResultSchema>;
