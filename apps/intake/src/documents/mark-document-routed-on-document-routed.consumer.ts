import { Injectable } from '@nestjs/common';
import { EventMap } from '@dvd/contracts';
import { Consumes, EventContext } from '@dvd/platform';
import { applyRouting } from './document-status';

/**
 * document.routed → ROUTED with the unit (from the newest decision only: a re-routing
 * raises the revision) and the overdue deadline: the time the decision was published plus
 * the authority's claimDeadline it carries.
 */
@Injectable()
export class MarkDocumentRoutedOnDocumentRouted {
  @Consumes('document.routed')
  async markRouted(data: EventMap['document.routed'], { manager, envelope, emit }: EventContext<'document.routed'>): Promise<void> {
    const routedAt = new Date(envelope.occurredAt);
    await applyRouting(
      manager,
      {
        documentId: data.documentId,
        unitId: data.unitId,
        revision: data.revision,
        claimDeadline: data.claimDeadline,
        routedAt: Number.isNaN(routedAt.getTime()) ? new Date() : routedAt,
      },
      emit,
    );
  }
}
