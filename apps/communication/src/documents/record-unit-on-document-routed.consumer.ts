import { Injectable } from '@nestjs/common';
import { EventMap } from '@dvd/contracts';
import { Consumes, EventContext } from '@dvd/platform';

/** document.routed → the known document's unit (who may claim its threads), from the newest routing decision only. */
@Injectable()
export class RecordUnitOnDocumentRouted {
  @Consumes('document.routed')
  async recordUnit(d: EventMap['document.routed'], { manager }: EventContext<'document.routed'>): Promise<void> {
    await manager.query(
      `UPDATE known_documents SET unit_id = $2, routing_revision = $3, updated_at = now() WHERE document_id = $1 AND routing_revision < $3`,
      [d.documentId, d.unitId, d.revision],
    );
  }
}
