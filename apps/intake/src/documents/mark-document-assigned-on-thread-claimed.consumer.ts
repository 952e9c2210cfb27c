import { Injectable } from '@nestjs/common';
import { EventMap } from '@dvd/contracts';
import { Consumes, EventContext } from '@dvd/platform';
import { advanceDocumentStatus } from './document-status';

/** thread.claimed → ASSIGNED. */
@Injectable()
export class MarkDocumentAssignedOnThreadClaimed {
  @Consumes('thread.claimed')
  async markAssigned(data: EventMap['thread.claimed'], { manager, emit }: EventContext<'thread.claimed'>): Promise<void> {
    await advanceDocumentStatus(manager, data.documentId, 'ASSIGNED', emit);
  }
}
