import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Identity, MAX_CONTENT_BLOB_BYTES, MessageListFilter, MessagePageView, MessageView } from '@dvd/contracts';
import { ApiError, JweValidationError, Messaging, decodeCursor, inspectJwe, isUuid, keysetPage, keysetTimestampSql } from '@dvd/platform';
import { isOfficial } from '../threads/thread-access';
import { threadAudience } from '../threads/thread-audience';
import { ThreadService } from '../threads/thread.service';

interface MessageRow {
  id: string;
  thread_id: string;
  /** Written from the poster's role: a public role. */
  sender_role: MessageView['senderRole'];
  content_blob: string;
  at: string;
}

/** A message as the API answers it (the contract's `Message`). */
export function toMessageView(m: MessageRow): MessageView {
  return { id: m.id, threadId: m.thread_id, senderRole: m.sender_role, createdAt: m.at, contentBlob: m.content_blob };
}

const COLUMNS = `id, thread_id, sender_role, content_blob, ${keysetTimestampSql('created_at')} AS at`;

@Injectable()
export class MessageService {
  private readonly logger = new Logger(MessageService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly messaging: Messaging,
    private readonly threads: ThreadService,
  ) {}

  /**
   * Posts a message. The thread row is locked first (the UPDATE of last_activity_at) and
   * created_at is taken after the lock, so within a thread commit order equals created_at
   * order: a reader catching up with ?after= can never miss a message that commits late.
   */
  async post(who: Identity, threadId: string, contentBlob: string): Promise<MessageView> {
    if (Buffer.byteLength(contentBlob, 'utf8') > MAX_CONTENT_BLOB_BYTES) {
      throw new ApiError(413, 'message-too-large', 'Content Too Large', `A contentBlob is at most ${MAX_CONTENT_BLOB_BYTES} bytes`);
    }
    try {
      await inspectJwe(contentBlob); // any kid: messages are encrypted for whoever reads them
    } catch (err) {
      if (err instanceof JweValidationError)
        throw ApiError.unprocessable(err.rule, err.detail, [{ field: 'contentBlob', message: err.detail }]);
      throw err;
    }
    return this.messaging.transaction(async (manager, emit) => {
      const thread = await this.threads.getVisible(who, threadId, manager, true);
      if (thread.status === 'CLOSED') throw ApiError.conflict('thread-closed', 'The thread is closed');
      if (isOfficial(who) && thread.assignedOfficialId !== who.userId) {
        throw ApiError.conflict('not-assignee', 'Officials post only to threads they hold; claim it first');
      }
      await manager.query(`UPDATE threads SET last_activity_at = now() WHERE id = $1`, [thread.id]);
      const id = randomUUID();
      const [row]: MessageRow[] = await manager.query(
        `INSERT INTO messages (id, thread_id, sender_id, sender_role, content_blob, created_at) VALUES ($1, $2, $3, $4, $5, clock_timestamp())
         RETURNING ${COLUMNS}`,
        [id, thread.id, who.userId, who.role, contentBlob],
      );
      const audience = await threadAudience(manager, thread);
      await emit('message.posted', {
        messageId: id,
        threadId: thread.id,
        documentId: thread.documentId,
        senderRole: who.role,
        ...audience,
      });
      this.logger.log({ messageId: id, threadId: thread.id, documentId: thread.documentId }, 'message posted');
      return toMessageView(row);
    });
  }

  /**
   * Newest first, `cursor` paging towards older; or with `after`, the messages newer than
   * that one, oldest first. Keyset (created_at, id) on messages_thread_created_idx.
   */
  async list(who: Identity, threadId: string, q: MessageListFilter): Promise<MessagePageView> {
    const thread = await this.threads.getVisible(who, threadId);
    if (q.after !== undefined) {
      const anchor: Array<{ at: string }> = isUuid(q.after)
        ? await this.db.query(`SELECT created_at::text AS at FROM messages WHERE id = $1 AND thread_id = $2`, [q.after, thread.id])
        : [];
      if (!anchor[0])
        throw ApiError.badRequest('The query parameters are invalid', [{ field: 'after', message: 'is not a message of this thread' }]);
      const rows: MessageRow[] = await this.db.query(
        `SELECT ${COLUMNS} FROM messages WHERE thread_id = $1 AND (created_at, id) > ($2::timestamptz, $3::uuid)
          ORDER BY created_at ASC, id ASC LIMIT $4`,
        [thread.id, anchor[0].at, q.after, q.limit],
      );
      return { items: rows.map(toMessageView), nextCursor: null };
    }
    const before = decodeCursor(q.cursor);
    const rows: MessageRow[] = before
      ? await this.db.query(
          `SELECT ${COLUMNS} FROM messages WHERE thread_id = $1 AND (created_at, id) < ($2::timestamptz, $3::uuid)
            ORDER BY created_at DESC, id DESC LIMIT $4`,
          [thread.id, before.at, before.id, q.limit + 1],
        )
      : await this.db.query(`SELECT ${COLUMNS} FROM messages WHERE thread_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, [
          thread.id,
          q.limit + 1,
        ]);
    const page = keysetPage(rows, q.limit, (r) => ({ at: r.at, id: r.id }));
    return { items: page.items.map(toMessageView), nextCursor: page.nextCursor };
  }
}
