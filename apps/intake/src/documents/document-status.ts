import { EntityManager } from 'typeorm';
import { DocumentStatus, STATUS_RANK } from './document.entity';

/**
 * Moves a document's status forward, never backwards: a late or repeated event changes
 * nothing (`status_rank` only grows). `version` (the ETag) rises only on a real change.
 */
export async function advanceDocumentStatus(
  manager: EntityManager,
  documentId: string,
  status: DocumentStatus,
  unitId?: string,
): Promise<void> {
  const rank = STATUS_RANK[status];
  await manager.query(
    `UPDATE documents
        SET status = CASE WHEN status_rank < $2 THEN $3 ELSE status END,
            status_rank = GREATEST(status_rank, $2),
            unit_id = COALESCE($4, unit_id),
            version = version + 1,
            updated_at = now()
      WHERE id = $1 AND (status_rank < $2 OR ($4::text IS NOT NULL AND unit_id IS DISTINCT FROM $4))`,
    [documentId, rank, status, unitId ?? null],
  );
}
