import { InternalClient } from '@dvd/platform';
import { DocumentForExport, ThreadForExport } from '../packaging/case-package';

/** The other services' internal APIs this worker reads (it reads no other service's tables). */
export class ServiceClients {
  constructor(
    readonly intake: InternalClient,
    readonly communication: InternalClient,
    readonly routing: InternalClient,
  ) {}

  document(id: string): Promise<(DocumentForExport & { citizenId: string }) | null> {
    return this.intake.getJson(`/internal/documents/${id}`);
  }

  async threads(documentId: string): Promise<ThreadForExport[]> {
    const res = await this.communication.getJson<{ threads: ThreadForExport[] }>(`/internal/documents/${documentId}/threads`);
    return res?.threads ?? [];
  }

  ingest(authorityId: string): Promise<{ ingestUrl: string; ingestSecret: string } | null> {
    return this.routing.getJson(`/internal/authorities/${authorityId}/ingest`);
  }
}
