import { Injectable } from '@nestjs/common';
import { EventMap } from '@dvd/contracts';
import { Consumes, EventContext } from '@dvd/platform';
import { KnownDocuments } from './known-documents';

/** document.received → remember the document's owner and authority (unit not yet known). */
@Injectable()
export class RememberDocumentOnDocumentReceived {
  constructor(private readonly documents: KnownDocuments) {}

  @Consumes('document.received')
  async remember(d: EventMap['document.received'], { manager }: EventContext<'document.received'>): Promise<void> {
    await this.documents.remember(manager, {
      documentId: d.documentId,
      citizenId: d.citizenId,
      authorityId: d.authorityId,
      unitId: null,
      routingRevision: 0,
    });
  }
}
