import { z } from 'zod';
import { pageQuery } from '@dvd/platform';
import { THREAD_STATUSES, THREAD_TYPES } from './thread.entity';

const instant = z.string().datetime({ offset: true, message: 'must be an RFC 3339 date-time' });
const slot = z
  .object({ start: instant, end: instant })
  .strict()
  .refine((s) => Date.parse(s.start) < Date.parse(s.end), 'start must be before end');

export const createThreadSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('CHAT') }).strict(),
  z
    .object({
      type: z.literal('CALLBACK'),
      callback: z
        .object({ preferredFrom: instant, preferredTo: instant })
        .strict()
        .refine((c) => Date.parse(c.preferredFrom) < Date.parse(c.preferredTo), 'preferredFrom must be before preferredTo'),
    })
    .strict(),
  z.object({ type: z.literal('APPOINTMENT'), appointment: z.object({ proposedSlots: z.array(slot).min(1).max(20) }).strict() }).strict(),
]);
export type CreateThread = z.output<typeof createThreadSchema>;

export const confirmSlotSchema = z.object({ start: instant }).strict();

export const inboxQuerySchema = z.object({
  ...pageQuery,
  documentId: z.string().uuid().optional(),
  type: z.enum(THREAD_TYPES).optional(),
  status: z.enum(THREAD_STATUSES).optional(),
  assigned: z.enum(['me', 'none']).optional(),
});

/** Normalises RFC 3339 instants to UTC ISO strings, so equal instants compare equal. */
export function utc(instantText: string): string {
  return new Date(instantText).toISOString();
}
