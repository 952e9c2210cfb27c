import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import type { DocumentHistoryEntryView, DocumentStatus, HistoryActorRole, Identity, RejectReason } from '@dvd/contracts';
import { Keyset, decodeCursor, keysetPage, keysetTimestampSql } from '@dvd/platform';

/** One step of a document (docs/case-workflow.md): a role, never a name or user id. */
export async function recordHistory(
  manager: EntityManager,
  documentId: string,
  state: DocumentStatus,
  actorRole: HistoryActorRole,
  reasonCode: RejectReason | null = null,
): Promise<void> {
  await manager.query(`INSERT INTO document_history (id, document_id, state, actor_role, reason_code) VALUES ($1, $2, $3, $4, $5)`, [
    randomUUID(),
    documentId,
    state,
    actorRole,
    reasonCode,
  ]);
}

/** The role a caller acts in, as the history records it. */
export function actorRoleOf(who: Identity): HistoryActorRole {
  if (who.role === 'service') return 'system';
  return who.role;
}

/** A page of a document's history, oldest first, keyset-paged on (at, id) (document_history_document_at_idx). */
export async function historyPage(
  manager: EntityManager,
  documentId: string,
  q: { limit: number; cursor?: string },
): Promise<{ items: DocumentHistoryEntryView[]; nextCursor: string | null }> {
  const after: Keyset | null = decodeCursor(q.cursor);
  const params: unknown[] = [documentId];
  let where = 'document_id = $1';
  if (after) {
    params.push(after.at, after.id);
    where += ' AND (at, id) > ($2::timestamptz, $3::uuid)';
  }
  params.push(q.limit + 1);
  const rows: Array<{ id: string; state: DocumentStatus; actor_role: HistoryActorRole; reason_code: RejectReason | null; at: string }> =
    await manager.query(
      `SELECT id, state, actor_role, reason_code, ${keysetTimestampSql('at')} AS at
         FROM document_history WHERE ${where}
        ORDER BY at, id LIMIT $${params.length}`,
      params,
    );
  const page = keysetPage(rows, q.limit, (r) => ({ at: r.at, id: r.id }));
  return {
    items: page.items.map((r) => ({
      state: r.state,
      at: new Date(r.at).toISOString(),
      actorRole: r.actor_role,
      ...(r.reason_code ? { reasonCode: r.reason_code } : {}),
    })),
    nextCursor: page.nextCursor,
  };
}
