import { Controller, Get, Param, Query } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { InternalCaseMessage, InternalCasePageQuery, InternalCaseThread, InternalThreadHolder } from '@dvd/contracts';
import {
  AllowRoles,
  AllowServices,
  ApiError,
  KeysetPage,
  decodeCursor,
  isUuid,
  keysetPage,
  keysetTimestampSql,
  parseOrThrow,
} from '@dvd/platform';

type ThreadRow = InternalCaseThread;
type MessageRow = InternalCaseMessage;

const byCreatedAt = (row: { id: string; createdAt: string }) => ({ at: row.createdAt, id: row.id });

const ts = (column: string) => keysetTimestampSql(column);

/** The cursor's keyset as SQL parameters $2, $3 and the condition on them (none on the first page). */
function after(cursor: string | undefined): { sql: string; params: string[] } {
  const k = decodeCursor(cursor);
  if (!k) return { sql: '', params: [] };
  if (!isUuid(k.id))
    throw ApiError.badRequest('The cursor is not valid', [{ field: 'cursor', message: 'is not a cursor this API issued' }]);
  return { sql: 'AND (created_at, id) > ($2::timestamptz, $3::uuid)', params: [k.at, k.id] };
}

/**
 * Internal API (role `service`). For export-worker, keyset-paged so that no side ever holds
 * a whole case: the threads of a document, oldest first, and per thread its encrypted
 * messages, oldest first — both on `(created_at, id)`, stable under inserts. For intake:
 * whether an official holds a thread of a document (accept, reject, forward).
 */
@AllowRoles('service')
@Controller('internal/documents')
export class InternalThreadController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The threads of the document assigned to the official (open or closed); 404 when none. */
  @Get(':documentId/holders/:officialId')
  @AllowServices('intake')
  async holder(@Param('documentId') documentId: string, @Param('officialId') officialId: string): Promise<InternalThreadHolder> {
    const rows: Array<{ id: string }> = isUuid(documentId)
      ? await this.db.query(
          `SELECT id FROM threads WHERE document_id = $1 AND assigned_official_id = $2 ORDER BY created_at, id LIMIT 1000`,
          [documentId, officialId],
        )
      : [];
    if (!rows.length) throw ApiError.notFound('thread', 'thread-not-found');
    return { documentId, officialId, threadIds: rows.map((r) => r.id) };
  }

  @Get(':documentId/threads')
  @AllowServices('export-worker')
  async threads(@Param('documentId') documentId: string, @Query() query: unknown): Promise<KeysetPage<InternalCaseThread>> {
    const q = parseOrThrow(InternalCasePageQuery, query, 'The query parameters are invalid');
    const from = after(q.cursor);
    if (!isUuid(documentId)) return { items: [], nextCursor: null };
    const rows: ThreadRow[] = await this.db.query(
      `SELECT id, type, status, assigned_official_id AS "assignedOfficialId", callback, appointment,
              ${ts('created_at')} AS "createdAt", ${ts('last_activity_at')} AS "lastActivityAt"
         FROM threads
        WHERE document_id = $1 ${from.sql}
        ORDER BY created_at, id LIMIT $${from.params.length + 2}`,
      [documentId, ...from.params, q.limit + 1],
    );
    return keysetPage(rows, q.limit, byCreatedAt);
  }

  @Get(':documentId/threads/:threadId/messages')
  @AllowServices('export-worker')
  async messages(
    @Param('documentId') documentId: string,
    @Param('threadId') threadId: string,
    @Query() query: unknown,
  ): Promise<KeysetPage<InternalCaseMessage>> {
    const q = parseOrThrow(InternalCasePageQuery, query, 'The query parameters are invalid');
    const from = after(q.cursor);
    const thread: unknown[] =
      isUuid(documentId) && isUuid(threadId)
        ? await this.db.query(`SELECT 1 FROM threads WHERE id = $1 AND document_id = $2`, [threadId, documentId])
        : [];
    if (!thread.length) throw ApiError.notFound('thread', 'thread-not-found');
    // served by messages_thread_created_idx, scanned backwards
    const rows: MessageRow[] = await this.db.query(
      `SELECT id, sender_role AS "senderRole", ${ts('created_at')} AS "createdAt", content_blob AS "contentBlob"
         FROM messages
        WHERE thread_id = $1 ${from.sql}
        ORDER BY created_at, id LIMIT $${from.params.length + 2}`,
      [threadId, ...from.params, q.limit + 1],
    );
    return keysetPage(rows, q.limit, byCreatedAt);
  }
}
