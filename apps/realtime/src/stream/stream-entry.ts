import { DOCUMENT_STATUSES, EventEnvelope, EventType, StreamEvent, StreamEventType } from '@dvd/contracts';

/**
 * Who may receive an event (ADR 0021): the citizen who owns the document (their subject), and
 * the officials and admins of its authority — all of them, or those who asked for its unit.
 * `null` where nobody of that side may.
 */
export interface Audience {
  citizenId: string | null;
  authorityId: string | null;
  unitId: string | null;
}

/** One event as every replica holds it: its offset in the stream (the SSE id), who may see it and the SSE frame. */
export interface StreamEntry {
  offset: number;
  /** When it was published (ms), for the replay window. */
  publishedAt: number;
  type: StreamEventType;
  audience: Audience;
  /** `id: …\nevent: …\ndata: {…}\n\n`, built once and written to every session that may see it. */
  frame: string;
}

/** The broker's event types the stream carries, and the name each has on the stream. */
export const STREAM_TYPE_OF: Partial<Record<EventType, StreamEventType>> = {
  'message.posted': 'message.created',
  'thread.claimed': 'thread.claimed',
  'thread.released': 'thread.released',
  'thread.closed': 'thread.closed',
  'document.status-changed': 'document.status-changed',
  'document.overdue': 'document.overdue',
  'export.completed': 'export.completed',
  'export.failed': 'export.failed',
  'appointment.reminder': 'appointment.reminder',
};

/** The routing keys the stream queue is bound to. */
export const STREAMED_EVENT_TYPES = Object.keys(STREAM_TYPE_OF) as EventType[];

const isDocumentStatus = (s: string): s is NonNullable<StreamEvent['status']> => (DOCUMENT_STATUSES as readonly string[]).includes(s);

const both = (d: { citizenId?: string; authorityId?: string; unitId?: string | null }): Audience => ({
  citizenId: d.citizenId ?? null,
  authorityId: d.authorityId ?? null,
  unitId: d.unitId ?? null,
});
/** Authority-internal events (overdue, exports): staff only, as the API shows them only to staff. */
const staff = (d: { authorityId: string; unitId?: string | null }): Audience => ({
  citizenId: null,
  authorityId: d.authorityId,
  unitId: d.unitId ?? null,
});

/**
 * What the client is told about an event, and who may be told: the stream type, ids, a
 * status and the time — never content, names, the Aktenzeichen or who acted. `null` for an
 * event the stream does not carry.
 */
export function streamEventOf(envelope: EventEnvelope): { event: StreamEvent; audience: Audience } | null {
  const time = envelope.occurredAt;
  switch (envelope.type) {
    case 'message.posted': {
      const d = envelope.data as EventEnvelope<'message.posted'>['data'];
      return {
        event: { type: 'message.created', documentId: d.documentId, threadId: d.threadId, messageId: d.messageId, time },
        audience: both(d),
      };
    }
    case 'thread.claimed':
    case 'thread.released':
    case 'thread.closed': {
      const d = envelope.data as EventEnvelope<'thread.closed'>['data'];
      return { event: { type: envelope.type, documentId: d.documentId, threadId: d.threadId, time }, audience: both(d) };
    }
    case 'document.status-changed': {
      const d = envelope.data as EventEnvelope<'document.status-changed'>['data'];
      if (!isDocumentStatus(d.status)) return null;
      return { event: { type: 'document.status-changed', documentId: d.documentId, status: d.status, time }, audience: both(d) };
    }
    case 'document.overdue': {
      const d = envelope.data as EventEnvelope<'document.overdue'>['data'];
      return { event: { type: 'document.overdue', documentId: d.documentId, time }, audience: staff(d) };
    }
    case 'export.completed':
    case 'export.failed': {
      const d = envelope.data as EventEnvelope<'export.completed'>['data'];
      return { event: { type: envelope.type, documentId: d.documentId, exportJobId: d.jobId, time }, audience: staff(d) };
    }
    case 'appointment.reminder': {
      const d = envelope.data as EventEnvelope<'appointment.reminder'>['data'];
      return { event: { type: 'appointment.reminder', documentId: d.documentId, threadId: d.threadId, time }, audience: both(d) };
    }
    default:
      return null;
  }
}

/** The SSE frame of an event: one `data` line of JSON (JSON never contains a raw newline). */
export function frameOf(offset: number, event: { type: string }): string {
  return `id: ${offset}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** A stream entry for an event at `offset`, or null when the stream does not carry it or nobody may see it. */
export function toStreamEntry(envelope: EventEnvelope, offset: number, publishedAt: number): StreamEntry | null {
  const described = streamEventOf(envelope);
  if (!described) return null;
  const { event, audience } = described;
  if (audience.citizenId === null && audience.authorityId === null) return null;
  return { offset, publishedAt, type: event.type, audience, frame: frameOf(offset, event) };
}

/** Who is listening on a session: from the signed identity and the `unitId` they asked for. */
export interface Listener {
  role: 'citizen' | 'staff';
  userId: string;
  authorityId: string | null;
  /** Staff only: just this unit's events. */
  unitId: string | null;
}

/**
 * The authorisation rule of the stream: a citizen receives the events of their own
 * documents; staff those of their authority (of one unit, if they asked). Nothing else.
 */
export function mayReceive(listener: Listener, audience: Audience): boolean {
  if (listener.role === 'citizen') return audience.citizenId !== null && audience.citizenId === listener.userId;
  if (listener.authorityId === null || audience.authorityId !== listener.authorityId) return false;
  return listener.unitId === null || audience.unitId === listener.unitId;
}
