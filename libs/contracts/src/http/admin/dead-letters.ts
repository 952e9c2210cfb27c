import { AuthorityId, Timestamp, Uuid, pageOf, pageQueryShape } from '../common';
import { z } from '../zod';

export const DEAD_LETTER_SERVICES = ['intake', 'routing-engine', 'communication', 'export-worker'] as const;

export const DeadLetterSchema = z
  .object({
    eventId: Uuid,
    eventType: z.string().openapi({ example: 'document.received' }),
    documentId: Uuid.nullable(),
    reason: z.enum(['handler-failed', 'malformed', 'delivery-limit']),
    detail: z
      .string()
      .nullable()
      .openapi({ description: 'Error name and code, or the invalid fields.', example: 'QueryFailedError 23503' }),
    attempts: z.number().int().min(1),
    firstFailedAt: Timestamp,
    lastFailedAt: Timestamp,
    size: z.number().int().openapi({ description: 'Size of the message in bytes.' }),
    replayable: z.boolean().openapi({ description: '`false` for a malformed message: its body was not kept.' }),
  })
  .openapi('DeadLetter', {
    description: 'An event a service gave up on. Ids, type, reason code and counts only; the event itself is never returned.',
  });

export const DeadLetterPageSchema = pageOf('DeadLetterPage', DeadLetterSchema, 'A page of dead letters, most recently failed first.');

export const DeadLetterReplayedSchema = z.object({ eventId: Uuid, status: z.enum(['REPLAYED']) }).openapi('DeadLetterReplayed');

const Service = z
  .enum(DEAD_LETTER_SERVICES)
  .openapi({ param: { description: 'The service whose event consumer dead-lettered the event.' } });
export const DeadLetterServiceParams = z.object({ service: Service });
export const DeadLetterParams = z.object({ service: Service, eventId: Uuid.openapi({ param: { description: 'The event id.' } }) });
export const DeadLetterListQuery = z.object(pageQueryShape);

export const UnroutableDocumentSchema = z
  .object({
    documentId: Uuid,
    authorityId: AuthorityId,
    receivedAt: Timestamp,
    reason: z.string().nullable().optional().openapi({ example: 'authority has no default unit' }),
  })
  .openapi('UnroutableDocument', {
    description: 'A document the routing engine could not route (no matching rule and no default unit).',
  });

export const UnroutableDocumentPageSchema = pageOf(
  'UnroutableDocumentPage',
  UnroutableDocumentSchema,
  'A page of unroutable documents, newest first.',
);

export const UnroutableListQuery = z.object({
  ...pageQueryShape,
  authorityId: z
    .string()
    .max(50)
    .optional()
    .openapi({ param: { description: 'Only documents of this authority.' } }),
});

export type DeadLetterView = z.input<typeof DeadLetterSchema>;
export type DeadLetterPageView = z.input<typeof DeadLetterPageSchema>;
export type DeadLetterReplayedView = z.input<typeof DeadLetterReplayedSchema>;
export type DeadLetterListFilter = z.output<typeof DeadLetterListQuery>;
export type UnroutableDocumentView = z.input<typeof UnroutableDocumentSchema>;
export type UnroutableDocumentPageView = z.input<typeof UnroutableDocumentPageSchema>;
export type UnroutableListFilter = z.output<typeof UnroutableListQuery>;
