import { DOCUMENT_STATUSES } from './documents';
import { Timestamp, UnitId, Uuid } from './common';
import { z } from './zod';

/**
 * The realtime event stream (`GET /api/v1/events`, Server-Sent Events, ADR 0021): what a
 * client is told, never any content or personal data — the event type, ids, a status and
 * the time. A client reloads what it shows through the API when an event arrives.
 */
export const STREAM_EVENT_TYPES = [
  'message.created',
  'thread.claimed',
  'thread.released',
  'thread.closed',
  'document.status-changed',
  'document.overdue',
  'export.completed',
  'export.failed',
  'appointment.reminder',
] as const;
export type StreamEventType = (typeof STREAM_EVENT_TYPES)[number];

/**
 * Control events on the stream besides the events above:
 * - `reset`: the `Last-Event-ID` the client resumed from is older than the window the
 *   server keeps (5 minutes): events may have been missed, reload what is shown. The stream goes on.
 * - `expired`: the token the stream was opened with expired; the stream ends. Reconnect with a fresh token.
 */
export const STREAM_CONTROL_TYPES = ['reset', 'expired'] as const;
export type StreamControlType = (typeof STREAM_CONTROL_TYPES)[number];

/** The largest stream offset accepted as an event id (15 digits). */
export const EVENT_ID_PATTERN = /^\d{1,15}$/;
/** A ticket: 256 random bits, base64url without padding. */
export const EVENT_TICKET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const StreamEventSchema = z
  .object({
    type: z.enum(STREAM_EVENT_TYPES),
    documentId: Uuid,
    threadId: Uuid.optional().openapi({ description: 'Thread events, `message.created` and `appointment.reminder`.' }),
    messageId: Uuid.optional().openapi({ description: '`message.created` only.' }),
    exportJobId: Uuid.optional().openapi({ description: '`export.completed` and `export.failed` only.' }),
    status: z.enum(DOCUMENT_STATUSES).optional().openapi({ description: "`document.status-changed` only: the document's new status." }),
    time: Timestamp.openapi({ description: 'When it happened (for `appointment.reminder`: when the reminder was due).' }),
  })
  .strict()
  .openapi('StreamEvent', {
    description:
      'The `data` of an event on the stream (JSON). The SSE `event` field repeats `type`; the SSE `id` is the position in the ' +
      'platform-wide event log, the same on every replica: send it back as `Last-Event-ID` to resume.',
  });

export const StreamControlSchema = z
  .object({
    type: z.enum(STREAM_CONTROL_TYPES),
    reason: z.enum(['last-event-id-outside-window', 'token-expired']).optional(),
  })
  .strict()
  .openapi('StreamControl', { description: 'The `data` of a `reset` or `expired` control event.' });

export const EventStreamQuery = z
  .object({
    unitId: UnitId.optional().openapi({
      param: {
        description:
          'Officials and admins: only the events of this unit of their authority (`404` for a unit their authority does not have).',
      },
    }),
    ticket: z
      .string()
      .regex(EVENT_TICKET_PATTERN, 'must be a ticket from POST /events/tickets')
      .optional()
      .openapi({
        param: {
          description:
            'For browsers (`EventSource` cannot send `Authorization`): a single-use ticket from `POST /events/tickets`, valid 30 s, ' +
            'instead of the bearer token. The gateway neither forwards nor logs it.',
        },
      }),
    lastEventId: z
      .string()
      .regex(EVENT_ID_PATTERN, 'must be an event id (digits)')
      .optional()
      .openapi({
        param: {
          description:
            'Resume after this event id, like the `Last-Event-ID` header (which wins if both are sent): for a new `EventSource` after a new ticket.',
        },
      }),
  })
  .strict();

export const EventStreamHeaders = z.object({
  'Last-Event-ID': z
    .string()
    .regex(EVENT_ID_PATTERN)
    .optional()
    .openapi({
      param: {
        description:
          'The id of the last event received: events after it from the last 5 minutes are sent first; older ones cannot be ' +
          'resumed (a `reset` event says so).',
      },
      example: '1042',
    }),
});

export const EventTicketSchema = z
  .object({
    ticket: z.string().regex(EVENT_TICKET_PATTERN).openapi({ example: 'q3Xc0u1TtD6yWm8kqZ0n7oYb2Jv4sR9eA5hLfG1iK2M' }),
    expiresAt: Timestamp,
  })
  .openapi('EventTicket', {
    description: 'A single-use ticket for `GET /events?ticket=…`, bound to the caller and the expiry of their token.',
  });

export const EVENT_STREAM_DESCRIPTION = [
  'A Server-Sent Events stream (`text/event-stream`) of what happens to the caller’s documents: a citizen gets the events ',
  'of their own documents, an official or admin those of their authority (`?unitId=`: of one unit). Each event has an ',
  '`id`, an `event` (its type) and `data` (a `StreamEvent`, JSON); `reset` and `expired` are control events ',
  '(`StreamControl`). Nothing readable is sent: ids, a status and a time.\n\n',
  'Authenticate with `Authorization: Bearer` (SDK, command line) or, from a browser, with a `ticket` from ',
  '`POST /events/tickets`. A comment (`:`) or a bare `id:` line comes every 15 s to keep proxies from closing an idle ',
  'stream; the stream ends when the token expires (`expired`). Reconnect with `Last-Event-ID` (or `?lastEventId=`) to ',
  'receive the events of the last 5 minutes that were missed, on any replica. At most 5 streams per user at a time ',
  '(`429` `too-many-streams`); a client that does not read is disconnected.',
].join('');

export type StreamEvent = z.output<typeof StreamEventSchema>;
export type StreamControl = z.output<typeof StreamControlSchema>;
export type EventTicket = z.output<typeof EventTicketSchema>;
export type EventStreamFilter = z.output<typeof EventStreamQuery>;
