import { Timestamp, Uuid, pageOf, pageQueryShape } from './common';
import { z } from './zod';

export const THREAD_TYPES = ['CHAT', 'CALLBACK', 'APPOINTMENT'] as const;
export const THREAD_STATUSES = ['OPEN', 'CLOSED'] as const;
export const MAX_PROPOSED_SLOTS = 20;

export const SlotSchema = z
  .object({ start: Timestamp, end: Timestamp })
  .strict()
  .refine((s) => Date.parse(s.start) < Date.parse(s.end), 'start must be before end')
  .openapi('Slot');

export const CallbackSchema = z
  .object({ preferredFrom: Timestamp, preferredTo: Timestamp })
  .strict()
  .refine((c) => Date.parse(c.preferredFrom) < Date.parse(c.preferredTo), 'preferredFrom must be before preferredTo')
  .openapi('Callback', {
    description: 'When the citizen would like to be called back. The phone number travels only inside an encrypted message.',
  });

const ProposedSlots = z.array(SlotSchema).min(1).max(MAX_PROPOSED_SLOTS);

export const ThreadCreateSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('CHAT') }).strict(),
    z.object({ type: z.literal('CALLBACK'), callback: CallbackSchema }).strict(),
    z.object({ type: z.literal('APPOINTMENT'), appointment: z.object({ proposedSlots: ProposedSlots }).strict() }).strict(),
  ])
  .openapi('ThreadCreate', {
    description:
      '`callback` is required for `CALLBACK` threads and `appointment` for `APPOINTMENT` threads; neither is allowed ' +
      'otherwise. Names, phone numbers and free text go only into encrypted messages.',
  });

export const AppointmentSchema = z
  .object({
    proposedSlots: ProposedSlots,
    confirmedSlot: SlotSchema.nullable().openapi({
      description:
        'The slot the citizen confirmed (booked for the official who proposed the slots); `null` until then and after a cancellation.',
    }),
  })
  .openapi('Appointment');

export const ThreadSchema = z
  .object({
    id: Uuid,
    documentId: Uuid,
    type: z.enum(THREAD_TYPES),
    status: z.enum(THREAD_STATUSES),
    assigned: z.boolean().openapi({ description: 'Whether an official has claimed the thread.' }),
    assignedOfficialId: z.string().nullable().optional().openapi({
      description:
        'Officials only (never in answers to citizens): the `sub` of the official who claimed the thread; `null` when unassigned.',
    }),
    lastActivityAt: Timestamp,
    createdAt: Timestamp,
    callback: CallbackSchema.optional().openapi({ description: 'Only on `CALLBACK` threads.' }),
    appointment: AppointmentSchema.optional().openapi({ description: 'Only on `APPOINTMENT` threads.' }),
  })
  .openapi('Thread');

export const ThreadPageSchema = pageOf('ThreadPage', ThreadSchema, 'A page of threads, newest first.');

export const AppointmentConfirmSchema = z
  .object({ start: Timestamp.openapi({ description: 'The `start` of one of the `proposedSlots`.' }) })
  .strict()
  .openapi('AppointmentConfirm');

/** The media type of `GET /threads/{id}/appointment.ics`. */
export const CALENDAR_CONTENT_TYPE = 'text/calendar';

export const AppointmentCalendarSchema = z.string().openapi('AppointmentCalendar', {
  description:
    'An iCalendar object (RFC 5545, UTF-8, CRLF line ends, lines folded at 75 octets) with `METHOD:PUBLISH` and one ' +
    '`VEVENT`: `UID` `<threadId>@<host of the platform>` (the same for every download of the appointment), `SEQUENCE` ' +
    '(rises when the appointment is cancelled and confirmed again), `DTSTAMP` (when it was confirmed), `DTSTART`/`DTEND` ' +
    'in UTC, a neutral German `SUMMARY` (`Termin bei <authority name>`, or `Termin (DirektVermittlungDe)` while the ' +
    "authority's name is not known), `STATUS:CONFIRMED` and a `VALARM` `APPOINTMENT_REMINDER_LEAD` before the start. " +
    'No Aktenzeichen, no names of persons.',
  example:
    'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//DirektVermittlungDe//Termine//DE\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\n' +
    'UID:0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10@dvd.example\r\nSEQUENCE:0\r\nDTSTAMP:20261125T101500Z\r\n' +
    'DTSTART:20261201T090000Z\r\nDTEND:20261201T093000Z\r\nSUMMARY:Termin bei Bauamt Musterstadt\r\n…\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n',
});

export const ThreadListQuery = z.object({
  ...pageQueryShape,
  documentId: Uuid.optional().openapi({ param: { description: 'Only threads of this document.' } }),
  type: z
    .enum(THREAD_TYPES)
    .optional()
    .openapi({ param: { description: 'Only threads of this type.' } }),
  status: z
    .enum(THREAD_STATUSES)
    .optional()
    .openapi({ param: { description: 'Only threads in this status.' } }),
  assigned: z
    .enum(['me', 'none'])
    .optional()
    .openapi({ param: { description: '`me`: claimed by the caller; `none`: unassigned.' } }),
});

export const ThreadParams = z.object({ id: Uuid.openapi({ param: { description: 'Thread id.' } }) });

export type ThreadType = (typeof THREAD_TYPES)[number];
export type ThreadStatus = (typeof THREAD_STATUSES)[number];
export type Slot = z.output<typeof SlotSchema>;
export type ThreadCreateInput = z.output<typeof ThreadCreateSchema>;
export type ThreadListFilter = z.output<typeof ThreadListQuery>;
/** A thread as the API answers it; `assignedOfficialId` only for officials. */
export type ThreadView = z.input<typeof ThreadSchema>;
export type ThreadPageView = z.input<typeof ThreadPageSchema>;
