import { Injectable } from '@nestjs/common';
import { EventMap } from '@dvd/contracts';
import { Consumes, EventContext } from '@dvd/platform';
import { advanceDocumentStatus } from './document-status';

/** export.completed → EXPORTED. */
@Injectable()
export class MarkDocumentExportedOnExportCompleted {
  @Consumes('export.completed')
  async markExported(data: EventMap['export.completed'], { manager, emit }: EventContext<'export.completed'>): Promise<void> {
    await advanceDocumentStatus(manager, data.documentId, 'EXPORTED', emit);
  }
}
