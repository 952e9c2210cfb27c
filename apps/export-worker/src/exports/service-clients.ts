import { InternalClient } from '@dvd/platform';
import { IngestTarget } from '../delivery/webhook-delivery';
import { CaseSource, DocumentForExport, MessageForExport, ThreadForExport } from '../packaging/case-package';

/** Threads and messages are read in pages of this many (communication allows at most 100). */
export const CASE_PAGE_SIZE = 100;

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The other services' internal APIs this worker reads (it reads no other service's tables). */
export class ServiceClients implements CaseSource {
  constructor(
    readonly intake: InternalClient,
    readonly communication: InternalClient,
    readonly routing: InternalClient,
  ) {}

  document(id: string): Promise<(DocumentForExport & { citizenId: string }) | null> {
    return this.intake.getJson(`/internal/documents/${id}`);
  }

  threadPages(documentId: string): AsyncIterable<ThreadForExport[]> {
    return this.pages<ThreadForExport>(`/internal/documents/${documentId}/threads`);
  }

  messagePages(documentId: string, threadId: string): AsyncIterable<MessageForExport[]> {
    return this.pages<MessageForExport>(`/internal/documents/${documentId}/threads/${threadId}/messages`);
  }

  /** The ingest URL and the active secrets, sealed (opened only at delivery). */
  ingest(authorityId: string): Promise<IngestTarget | null> {
    return this.routing.getJson(`/internal/authorities/${authorityId}/ingest`);
  }

  /** Follows a keyset-paged internal list to its end, one bounded page at a time. */
  private async *pages<T>(path: string): AsyncGenerator<T[]> {
    let cursor: string | null = null;
    do {
      const query: string = `?limit=${CASE_PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: Page<T> | null = await this.communication.getJson<Page<T>>(`${path}${query}`);
      if (!page) throw new Error('the list disappeared while it was read');
      yield page.items;
      cursor = page.nextCursor;
    } while (cursor);
  }
}
