import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Messaging } from '@dvd/platform';
import { DocumentStatus, STATUS_RANK } from './document.entity';

/**
 * Moves a document's status forward, never backwards: a late or repeated event changes
 * nothing (`status_rank` only grows). `version` (the ETag) rises only on a real change.
 */
async function advance(manager: EntityManager, documentId: string, status: DocumentStatus, unitId?: string): Promise<void> {
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

/** document.routed → ROUTED with the unit (the unit is kept even if a later status arrived first). */
@Injectable()
export class MarkDocumentRoutedOnDocumentRouted implements OnModuleInit {
  constructor(private readonly messaging: Messaging) {}
  onModuleInit() {
    this.messaging.on('document.routed', (data, { manager }) => advance(manager, data.documentId, 'ROUTED', data.unitId));
  }
}

/** thread.claimed → ASSIGNED. */
@Injectable()
export class MarkDocumentAssignedOnThreadClaimed implements OnModuleInit {
  constructor(private readonly messaging: Messaging) {}
  onModuleInit() {
    this.messaging.on('thread.claimed', (data, { manager }) => advance(manager, data.documentId, 'ASSIGNED'));
  }
}

/** export.completed → EXPORTED. */
@Injectable()
export class MarkDocumentExportedOnExportCompleted implements OnModuleInit {
  constructor(private readonly messaging: Messaging) {}
  onModuleInit() {
    this.messaging.on('export.completed', (data, { manager }) => advance(manager, data.documentId, 'EXPORTED'));
  }
}
