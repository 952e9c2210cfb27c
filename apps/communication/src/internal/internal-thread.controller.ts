import { Controller, Get, Param } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AllowRoles, isUuid } from '@dvd/platform';

/**
 * Internal API for export-worker (role `service`): every thread of a document with all its
 * encrypted messages, oldest first.
 */
@AllowRoles('service')
@Controller('internal/documents')
export class InternalThreadController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Get(':documentId/threads')
  async threads(@Param('documentId') documentId: string) {
    if (!isUuid(documentId)) return { threads: [] };
    const threads: Array<Record<string, unknown>> = await this.db.query(
      `SELECT id, type, status, assigned_official_id AS "assignedOfficialId", callback, appointment,
              created_at AS "createdAt", last_activity_at AS "lastActivityAt"
         FROM threads WHERE document_id = $1 ORDER BY created_at, id`,
      [documentId],
    );
    const messages: Array<{ thread_id: string; id: string; sender_role: string; content_blob: string; created_at: Date }> = threads.length
      ? await this.db.query(
          `SELECT thread_id, id, sender_role, content_blob, created_at FROM messages WHERE thread_id = ANY($1::uuid[]) ORDER BY created_at, id`,
          [threads.map((t) => t.id)],
        )
      : [];
    return {
      threads: threads.map((t) => ({
        ...t,
        messages: messages
          .filter((m) => m.thread_id === t.id)
          .map((m) => ({ id: m.id, senderRole: m.sender_role, createdAt: m.created_at.toISOString(), contentBlob: m.content_blob })),
      })),
    };
  }
}
