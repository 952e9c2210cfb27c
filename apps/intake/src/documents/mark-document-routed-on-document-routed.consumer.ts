import { Injectable } from '@nestjs/common';
import { EventMap } from '@dvd/contracts';
import { Consumes, EventContext } from '@dvd/platform';
import { advanceDocumentStatus } from './document-status';

/** document.routed → ROUTED with the unit (the unit is kept even if a later status arrived first). */
@Injectable()
export class MarkDocumentRoutedOnDocumentRouted {
  @Consumes('document.routed')
  async markRouted(data: EventMap['document.routed'], { manager }: EventContext<'document.routed'>): Promise<void> {
    await advanceDocumentStatus(manager, data.documentId, 'ROUTED', data.unitId);
  }
}
