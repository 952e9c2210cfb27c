import { z } from 'zod';

/** The one topic exchange every service publishes to; routing key = event type. */
export const EVENTS_EXCHANGE = 'dvd.events';

const id = z.string().min(1).max(200);
const uuid = z.string().uuid();

/**
 * Who may see an event about a document on the realtime stream (ADR 0021): the citizen who
 * owns it (their pseudonymous subject), its authority and its unit. Pseudonymous ids only,
 * never a name or an Aktenzeichen. Optional where added to an existing event: events
 * published before carry none (and reach nobody on the stream).
 */
const audience = {
  citizenId: id.optional(),
  authorityId: id.optional(),
  unitId: id.nullable().optional(),
};

/**
 * Payload schemas of every event, by name. Payloads hold ids and plain data, change
 * additively, and a published name is never renamed (a breaking change gets a new name
 * with a version suffix). Consumers validate what they receive against these schemas.
 */
export const eventSchemas = {
  'document.received': z.object({
    documentId: uuid,
    citizenId: id,
    authorityId: id,
    documentType: z.string(),
    serviceKey: z.string().nullable(),
    regionKey: z.string().nullable(),
    /** The Aktenzeichen: needed for `referenceNumberPrefix` rules. Never log it. */
    referenceNumber: z.string(),
    createdAt: z.string(),
  }),
  'document.routed': z.object({
    documentId: uuid,
    authorityId: id,
    unitId: id,
    ruleId: z.string().nullable(),
    /**
     * Rises with every new decision for the document (a re-routing): a consumer applies a
     * unit only from a higher revision than it has, so a late event never restores an old
     * unit. Events from before re-routing existed carry none: 1.
     */
    revision: z.number().int().min(1).default(1),
    /** The authority's claimDeadline when the document was routed (ISO 8601 duration). */
    claimDeadline: z.string().max(40).default('P3D'),
  }),
  'document.purged': z.object({ documentId: uuid, authorityId: id }),
  /** A routed document nobody claimed or decided within its authority's claimDeadline; published once per document. Ids only. */
  'document.overdue': z.object({ documentId: uuid, authorityId: id, unitId: id }),
  /** The authority's decisions (docs/case-workflow.md): ids, the role that decided, never a name or a note. */
  'document.accepted': z.object({ documentId: uuid, authorityId: id, actorRole: z.string() }),
  'document.rejected': z.object({ documentId: uuid, authorityId: id, reasonCode: z.string(), actorRole: z.string() }),
  /** The original went to `targetAuthorityId` as the new document `forwardedToDocumentId` (which has its own document.received). */
  'document.forwarded': z.object({
    documentId: uuid,
    authorityId: id,
    forwardedToDocumentId: uuid,
    targetAuthorityId: id,
    actorRole: z.string(),
  }),
  'authority.changed': z.object({
    authorityId: id,
    name: z.string(),
    retentionPeriod: z.string(),
    defaultUnitId: z.string().nullable(),
    activeKeyIds: z.array(z.string()),
    deleted: z.boolean().default(false),
  }),
  'routing-rules.changed': z.object({ authorityId: id }),
  'thread.created': z.object({ threadId: uuid, documentId: uuid, type: z.string() }),
  'thread.claimed': z.object({ threadId: uuid, documentId: uuid, officialId: id, ...audience }),
  /** The holder gave the thread back (anyone of the unit may claim it again). */
  'thread.released': z.object({ threadId: uuid, documentId: uuid, ...audience }),
  'thread.closed': z.object({ threadId: uuid, documentId: uuid, ...audience }),
  'message.posted': z.object({
    messageId: uuid,
    threadId: uuid,
    documentId: uuid,
    senderRole: z.string(),
    ...audience,
  }),
  /**
   * A document's status changed (docs/case-workflow.md), or a re-routing moved it to another
   * unit: intake, in the transaction of the change. For the realtime stream; ids and the status only.
   */
  'document.status-changed': z.object({
    documentId: uuid,
    citizenId: id,
    authorityId: id,
    unitId: id.nullable(),
    status: z.string().max(40),
  }),
  /**
   * A confirmed appointment starts within APPOINTMENT_REMINDER_LEAD (communication, ADR 0022): once per
   * confirmation, never for a cancelled one. Ids and times only: no names, no Aktenzeichen. `unitId` is
   * the document's unit when known (null before routing); `officialId` the official the appointment is with.
   */
  'appointment.reminder': z.object({
    threadId: uuid,
    documentId: uuid,
    authorityId: id,
    unitId: id.nullable(),
    citizenId: id,
    officialId: id,
    startsAt: z.string().max(40),
    endsAt: z.string().max(40),
  }),
  'export.requested': z.object({ jobId: uuid, documentId: uuid, authorityId: id, unitId: id.nullable().optional() }),
  'export.completed': z.object({ jobId: uuid, documentId: uuid, authorityId: id, unitId: id.nullable().optional() }),
  'export.failed': z.object({
    jobId: uuid,
    documentId: uuid,
    authorityId: id,
    reason: z.string(),
    unitId: id.nullable().optional(),
  }),
} as const;

export type EventType = keyof typeof eventSchemas;

/**
 * Which services consume each event (docs/events.md). A service that registers a handler
 * for a type that does not list it fails at boot, so this list cannot silently drift.
 * An event of a type nobody consumes is confirmed and dropped when no queue is bound for
 * it; one of a consumed type is parked until its consumer's queue exists (ADR 0009).
 * `realtime` is not listed: it reads a stream of recent events and wants none parked for it (ADR 0021).
 */
export const EVENT_CONSUMERS: Record<EventType, readonly string[]> = {
  'document.received': ['routing-engine', 'communication'],
  'document.routed': ['intake', 'communication'],
  'document.purged': ['routing-engine', 'communication', 'export-worker'],
  'document.overdue': [],
  'document.accepted': [],
  'document.rejected': [],
  'document.forwarded': [],
  'authority.changed': ['intake', 'routing-engine', 'communication'],
  'routing-rules.changed': ['routing-engine'],
  'thread.created': [],
  'thread.claimed': ['intake'],
  'thread.released': [],
  'thread.closed': [],
  'message.posted': [],
  'document.status-changed': [],
  'appointment.reminder': [],
  'export.requested': ['export-worker'],
  'export.completed': ['intake'],
  'export.failed': [],
};
export type EventMap = { [K in EventType]: z.infer<(typeof eventSchemas)[K]> };
export const EVENT_TYPES = Object.keys(eventSchemas) as EventType[];

export interface EventEnvelope<K extends EventType = EventType> {
  id: string;
  type: K;
  occurredAt: string;
  correlationId: string;
  causationId: string | null;
  data: EventMap[K];
}

export function isEventType(value: string): value is EventType {
  return Object.prototype.hasOwnProperty.call(eventSchemas, value);
}

const envelopeSchema = z.object({
  id: uuid,
  type: z.string(),
  occurredAt: z.string(),
  correlationId: z.string(),
  causationId: z.string().nullable().default(null),
  data: z.unknown(),
});

export type EnvelopeParseResult = { ok: true; envelope: EventEnvelope } | { ok: false; reason: string };

/** Validates a received message body against the envelope and its type's payload schema. */
export function parseEnvelope(raw: unknown): EnvelopeParseResult {
  const env = envelopeSchema.safeParse(raw);
  if (!env.success) return { ok: false, reason: 'malformed envelope' };
  if (!isEventType(env.data.type)) return { ok: false, reason: `unknown event type` };
  const data = eventSchemas[env.data.type].safeParse(env.data.data);
  if (!data.success) {
    const fields = data.error.issues.map((i) => i.path.join('.')).join(', ');
    return { ok: false, reason: `invalid payload (${fields})` };
  }
  return {
    ok: true,
    envelope: { ...env.data, type: env.data.type, data: data.data } as EventEnvelope,
  };
}
