import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Identity, ThreadCreateInput, ThreadListFilter } from '@dvd/contracts';
import { ApiError, Emitter, Keyset, Messaging, decodeCursor, isUuid, keysetPage, keysetTimestampSql } from '@dvd/platform';
import { AppointmentBookings } from '../appointments/appointment-bookings';
import { KnownDocuments } from '../documents/known-documents';
import { utc } from './utc';
import { isOfficial, isParty, threadNotFound } from './thread-access';
import { threadAudience } from './thread-audience';
import { ThreadEntity } from './thread.entity';

@Injectable()
export class ThreadService {
  private readonly logger = new Logger(ThreadService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly messaging: Messaging,
    private readonly documents: KnownDocuments,
    private readonly bookings: AppointmentBookings,
  ) {}

  async create(who: Identity, documentId: string, input: ThreadCreateInput): Promise<ThreadEntity> {
    const doc = isUuid(documentId) ? await this.documents.find(documentId, who.requestId) : null;
    if (!doc || !isParty(who, doc)) throw ApiError.notFound('document', 'document-not-found');
    if (input.type === 'APPOINTMENT' && !isOfficial(who)) {
      throw ApiError.unprocessable(
        'appointment-by-official',
        'Appointments are proposed by officials; citizens confirm one of the proposed slots',
      );
    }
    const id = randomUUID();
    const callback =
      input.type === 'CALLBACK' ? { preferredFrom: utc(input.callback.preferredFrom), preferredTo: utc(input.callback.preferredTo) } : null;
    const appointment =
      input.type === 'APPOINTMENT'
        ? { proposedSlots: input.appointment.proposedSlots.map((s) => ({ start: utc(s.start), end: utc(s.end) })), confirmedSlot: null }
        : null;
    return this.messaging.transaction(
      async (manager, emit) => {
        // slots the proposing official has booked already are not offered (ADR 0022)
        if (appointment) await this.bookings.refuseTaken(manager, doc.authorityId, who.userId, appointment.proposedSlots);
        await manager.query(
          `INSERT INTO threads (id, document_id, citizen_id, authority_id, type, callback, appointment, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            id,
            doc.documentId,
            doc.citizenId,
            doc.authorityId,
            input.type,
            callback && JSON.stringify(callback),
            appointment && JSON.stringify(appointment),
            who.userId,
          ],
        );
        await emit('thread.created', { threadId: id, documentId: doc.documentId, type: input.type });
        this.logger.log({ threadId: id, documentId: doc.documentId, type: input.type }, 'thread created');
        return manager.getRepository(ThreadEntity).findOneByOrFail({ id });
      },
      { correlationId: doc.documentId },
    );
  }

  /** The thread if the caller is a party to it; 404 otherwise. */
  async getVisible(who: Identity, id: string, manager: EntityManager = this.db.manager, lock = false): Promise<ThreadEntity> {
    const thread = isUuid(id)
      ? await manager.getRepository(ThreadEntity).findOne({ where: { id }, lock: lock ? { mode: 'pessimistic_write' } : undefined })
      : null;
    if (!thread || !isParty(who, thread)) throw threadNotFound();
    return thread;
  }

  /**
   * Inbox: newest activity first, keyset-paged on (last_activity_at, id) — served by
   * threads_citizen_activity_idx / threads_authority_activity_idx. A thread with new
   * activity moves to the top (an inbox), so a cursor taken earlier may show it again.
   */
  async inbox(who: Identity, q: ThreadListFilter) {
    const params: unknown[] = [who.role === 'citizen' ? who.userId : who.authorityId];
    const where = [who.role === 'citizen' ? 'citizen_id = $1' : 'authority_id = $1'];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    const after: Keyset | null = decodeCursor(q.cursor);
    if (after) {
      params.push(after.at, after.id);
      where.push(`(last_activity_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    if (q.documentId) add('document_id = ?', q.documentId);
    if (q.type) add('type = ?', q.type);
    if (q.status) add('status = ?', q.status);
    if (q.assigned === 'me') add('assigned_official_id = ?', who.userId);
    if (q.assigned === 'none') where.push('assigned_official_id IS NULL');
    params.push(q.limit + 1);
    const rows: Array<{ id: string; at: string }> = await this.db.query(
      `SELECT id, ${keysetTimestampSql('last_activity_at')} AS at FROM threads
        WHERE ${where.join(' AND ')} ORDER BY last_activity_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const page = keysetPage(rows, q.limit, (r) => r);
    const entities = page.items.length
      ? await this.db
          .getRepository(ThreadEntity)
          .createQueryBuilder('t')
          .whereInIds(page.items.map((r) => r.id))
          .getMany()
      : [];
    const byId = new Map(entities.map((t) => [t.id, t]));
    return { items: page.items.map((r) => byId.get(r.id)).filter((t): t is ThreadEntity => !!t), nextCursor: page.nextCursor };
  }

  /**
   * One conditional UPDATE decides a claim: whoever's UPDATE matches first wins, every
   * racing claim sees the new holder and gets 409. The same official again: 200.
   */
  async claim(who: Identity, id: string): Promise<ThreadEntity> {
    if (!isOfficial(who)) throw threadNotFound();
    return this.messaging.transaction(async (manager, emit) => {
      // The CTE locks the row and reads the holder as of the lock (FOR UPDATE sees the latest
      // version), so a racing claim by the same official is recognised as a repeat.
      const [rows] = (await manager.query(
        `WITH before AS (SELECT id, assigned_official_id AS previous FROM threads WHERE id = $1 FOR UPDATE)
         UPDATE threads t SET assigned_official_id = $3, last_activity_at = now()
           FROM before
          WHERE t.id = before.id AND t.authority_id = $2 AND t.status = 'OPEN'
            AND (t.assigned_official_id IS NULL OR t.assigned_official_id = $3)
          RETURNING t.id, t.document_id, t.citizen_id, t.authority_id, before.previous`,
        [isUuid(id) ? id : null, who.authorityId, who.userId],
      )) as [Array<{ id: string; document_id: string; citizen_id: string; authority_id: string; previous: string | null }>, number];
      const row = rows[0];
      if (!row) {
        const thread = await this.getVisible(who, id, manager);
        if (thread.status === 'CLOSED') throw ApiError.conflict('thread-closed', 'The thread is closed');
        throw ApiError.conflict('thread-claimed', 'Another official holds this thread');
      }
      if (row.previous !== who.userId) {
        const audience = await threadAudience(manager, {
          documentId: row.document_id,
          citizenId: row.citizen_id,
          authorityId: row.authority_id,
        });
        await emit('thread.claimed', { threadId: row.id, documentId: row.document_id, officialId: who.userId, ...audience });
        this.logger.log({ threadId: row.id, documentId: row.document_id, officialId: who.userId }, 'thread claimed');
      }
      return manager.getRepository(ThreadEntity).findOneByOrFail({ id: row.id });
    });
  }

  async release(who: Identity, id: string): Promise<ThreadEntity> {
    return this.asAssignee(who, id, async (manager, thread, emit) => {
      await manager.query(`UPDATE threads SET assigned_official_id = NULL, last_activity_at = now() WHERE id = $1`, [thread.id]);
      await emit('thread.released', { threadId: thread.id, documentId: thread.documentId, ...(await threadAudience(manager, thread)) });
    });
  }

  async close(who: Identity, id: string): Promise<ThreadEntity> {
    return this.asAssignee(who, id, async (manager, thread, emit) => {
      await manager.query(`UPDATE threads SET status = 'CLOSED', last_activity_at = now() WHERE id = $1`, [thread.id]);
      await emit('thread.closed', { threadId: thread.id, documentId: thread.documentId, ...(await threadAudience(manager, thread)) });
    });
  }

  private async asAssignee(
    who: Identity,
    id: string,
    change: (manager: EntityManager, t: ThreadEntity, emit: Emitter) => Promise<void>,
  ): Promise<ThreadEntity> {
    if (!isOfficial(who)) throw threadNotFound();
    return this.messaging.transaction(async (manager, emit) => {
      const thread = await this.getVisible(who, id, manager, true);
      if (thread.assignedOfficialId !== who.userId)
        throw ApiError.conflict('not-assignee', 'Only the official holding the thread may do this');
      if (thread.status === 'CLOSED') throw ApiError.conflict('thread-closed', 'The thread is closed');
      await change(manager, thread, emit);
      return manager.getRepository(ThreadEntity).findOneByOrFail({ id: thread.id });
    });
  }
}
