import { Injectable } from '@nestjs/common';
import { EventMap } from '@dvd/contracts';
import { Consumes, EventContext } from '@dvd/platform';
import { KnownDocuments } from './known-documents';

/** document.routed → the known document's unit (who may claim its threads), from the newest routing decision only. */
@Injectable()
export class RecordUnitOnDocumentRouted {
  constructor(private readonly known: KnownDocuments) {}

  @Consumes('document.routed')
  async recordUnit(d: EventMap['document.routed'], { manager }: EventContext<'document.routed'>): Promise<void> {
    const record = async () =>
      (
        (await manager.query(
          `UPDATE known_documents SET unit_id = $2, routing_revision = $3, updated_at = now()
          WHERE document_id = $1 AND routing_revision < $3 RETURNING 1`,
          [d.documentId, d.unitId, d.revision],
        )) as [unknown[], number]
      )[0].length === 1;
    if (await record()) return; // the usual case: one statement
    // Nothing updated: the document is not known yet, or its row has this or a newer decision.
    // The queue hands out several events at once: document.received (intake) may still be in
    // hand while this one (routing-engine, after it) is handled, and commit between the two
    // statements. An update of a row that does not exist yet would lose the unit; the
    // document is learnt (or found) first, and the update runs again: it changes nothing
    // when the row has this or a newer decision.
    await this.known.find(d.documentId);
    await record();
  }
}
