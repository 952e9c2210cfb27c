import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import type { DeadLetterView, EventEnvelope } from '@dvd/contracts';
import { keysetTimestampSql } from '../http/paging';
import { activeTraceparent } from '../telemetry/trace-context';

/** Why an event is a dead letter. */
export type DeadLetterReason = DeadLetterView['reason'];

export interface DeadLetterInput {
  eventId: string;
  eventType: string;
  reason: DeadLetterReason;
  /** Error name and code, or the parser's field list: never an error message or a value. */
  detail: string | null;
  attempts: number;
  firstFailedAt: Date;
  size: number;
  /** The parsed envelope; null for a malformed message (its body is not kept anywhere). */
  envelope: EventEnvelope | null;
}

/** A dead letter as the admin API answers it: the contract's `DeadLetter`. */
export type { DeadLetterView };

interface Row {
  event_id: string;
  event_type: string;
  document_id: string | null;
  reason: DeadLetterReason;
  detail: string | null;
  attempts: number;
  first_failed_at: string;
  last_failed_at: string;
  size: number;
  replayable: boolean;
}

/**
 * DDL for `<schema>.dead_letters` (events a consumer gave up on; the envelope, which may
 * hold an Aktenzeichen, stays in the service's own database and is deleted with the
 * document) and the outbox columns `target_queue` (a replay goes to one service's queue)
 * and `attempts`/`next_attempt_at` (backoff for rows the broker did not take).
 */
export function deadLetterTablesSql(schema: string): string[] {
  const s = `"${schema}"`;
  return [
    `CREATE TABLE ${s}.dead_letters (
       event_id uuid PRIMARY KEY,
       event_type text NOT NULL,
       document_id uuid,
       reason text NOT NULL,
       detail text,
       attempts integer NOT NULL,
       first_failed_at timestamptz NOT NULL,
       last_failed_at timestamptz NOT NULL,
       size integer NOT NULL,
       envelope jsonb
     )`,
    `CREATE INDEX dead_letters_document_idx ON ${s}.dead_letters (document_id) WHERE document_id IS NOT NULL`,
    `CREATE INDEX dead_letters_last_failed_idx ON ${s}.dead_letters (last_failed_at DESC, event_id DESC)`,
    `ALTER TABLE ${s}.outbox ADD COLUMN target_queue text,
       ADD COLUMN attempts integer NOT NULL DEFAULT 0,
       ADD COLUMN next_attempt_at timestamptz`,
  ];
}

/**
 * DDL for the outbox column `traceparent` (ADR 0023): the W3C trace context of the request or
 * event that wrote the row, so that the relay publishes the event in that trace. Null when
 * tracing is off.
 */
export function outboxTraceContextSql(schema: string): string[] {
  return [`ALTER TABLE "${schema}".outbox ADD COLUMN traceparent text`];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The document an event is about, if its payload names one. */
export function documentIdOf(envelope: EventEnvelope | null): string | null {
  const id = (envelope?.data as { documentId?: unknown } | undefined)?.documentId;
  return typeof id === 'string' && UUID.test(id) ? id : null;
}

/** A message id usable as a dead letter's key: the event id if it is one, else a fresh id. */
export function deadLetterKey(messageId: unknown): string {
  return typeof messageId === 'string' && UUID.test(messageId) ? messageId : randomUUID();
}

/**
 * The dead letters of one service (its schema, through its data source): recorded by the
 * consumer, listed, replayed and purged by operators (CLI `npm run dlq`, admin endpoint),
 * deleted with their document on `document.purged`.
 */
export class DeadLetterStore {
  constructor(private readonly db: DataSource | EntityManager) {}

  async record(d: DeadLetterInput, at = new Date()): Promise<void> {
    await this.db.query(
      `INSERT INTO dead_letters (event_id, event_type, document_id, reason, detail, attempts, first_failed_at, last_failed_at, size, envelope)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (event_id) DO UPDATE SET reason = EXCLUDED.reason, detail = EXCLUDED.detail,
         attempts = dead_letters.attempts + EXCLUDED.attempts, last_failed_at = EXCLUDED.last_failed_at,
         envelope = COALESCE(EXCLUDED.envelope, dead_letters.envelope)`,
      [
        d.eventId,
        d.eventType.slice(0, 100),
        documentIdOf(d.envelope),
        d.reason,
        d.detail?.slice(0, 200) ?? null,
        d.attempts,
        d.firstFailedAt,
        at,
        d.size,
        d.envelope ? JSON.stringify(d.envelope) : null,
      ],
    );
  }

  /** Newest first; `before` is the `eventId` of the last item of the previous page. */
  async list(o: { limit: number; before?: { lastFailedAt: string; eventId: string } }): Promise<DeadLetterView[]> {
    const params: unknown[] = [o.limit];
    let where = '';
    if (o.before) {
      params.push(o.before.lastFailedAt, o.before.eventId);
      where = `WHERE (last_failed_at, event_id) < ($2::timestamptz, $3::uuid)`;
    }
    const rows: Row[] = await this.db.query(
      `SELECT ${COLUMNS} FROM dead_letters ${where} ORDER BY last_failed_at DESC, event_id DESC LIMIT $1`,
      params,
    );
    return rows.map(view);
  }

  async get(eventId: string): Promise<DeadLetterView | null> {
    if (!UUID.test(eventId)) return null;
    const rows: Row[] = await this.db.query(`SELECT ${COLUMNS} FROM dead_letters WHERE event_id = $1`, [eventId]);
    return rows[0] ? view(rows[0]) : null;
  }

  /**
   * Puts the stored envelope (same event id, so de-duplication still holds) into the outbox,
   * addressed to `queue` only, and deletes the dead letter, in one transaction. The relay
   * publishes it after the commit. 'missing': no such dead letter; 'not-replayable': a
   * malformed message, whose body was never kept.
   */
  async replay(eventId: string, queue: string): Promise<'replayed' | 'missing' | 'not-replayable'> {
    if (!UUID.test(eventId)) return 'missing';
    const run = async (m: EntityManager) => {
      const rows: Array<{ envelope: EventEnvelope | null }> = await m.query(
        `SELECT envelope FROM dead_letters WHERE event_id = $1 FOR UPDATE`,
        [eventId],
      );
      if (!rows[0]) return 'missing' as const;
      const e = rows[0].envelope;
      if (!e) return 'not-replayable' as const;
      // the replay is traced from the operator's request that asked for it
      await m.query(
        `INSERT INTO outbox (id, type, data, occurred_at, correlation_id, causation_id, target_queue, traceparent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
        [e.id, e.type, JSON.stringify(e.data), e.occurredAt, e.correlationId, e.causationId, queue, activeTraceparent()],
      );
      await m.query(`DELETE FROM dead_letters WHERE event_id = $1`, [eventId]);
      return 'replayed' as const;
    };
    return this.db instanceof DataSource ? this.db.transaction(run) : run(this.db);
  }

  /** Deletes one dead letter; false if there was none. */
  async delete(eventId: string): Promise<boolean> {
    if (!UUID.test(eventId)) return false;
    const rows: unknown[] = await this.db.query(`DELETE FROM dead_letters WHERE event_id = $1 RETURNING event_id`, [eventId]);
    return rows.length > 0;
  }

  /** Deletes every dead letter about a document (on `document.purged`). */
  async purgeDocument(documentId: string): Promise<void> {
    if (!UUID.test(documentId)) return;
    await this.db.query(`DELETE FROM dead_letters WHERE document_id = $1`, [documentId]);
  }
}

const COLUMNS = `event_id, event_type, document_id, reason, detail, attempts,
  ${keysetTimestampSql('first_failed_at')} AS first_failed_at, ${keysetTimestampSql('last_failed_at')} AS last_failed_at,
  size, envelope IS NOT NULL AS replayable`;

function view(r: Row): DeadLetterView {
  return {
    eventId: r.event_id,
    eventType: r.event_type,
    documentId: r.document_id,
    reason: r.reason,
    detail: r.detail,
    attempts: r.attempts,
    firstFailedAt: r.first_failed_at,
    lastFailedAt: r.last_failed_at,
    size: r.size,
    replayable: r.replayable,
  };
}
