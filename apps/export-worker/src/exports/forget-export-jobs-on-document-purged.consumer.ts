import { Injectable, Logger } from '@nestjs/common';
import { EventMap } from '@dvd/contracts';
import { Consumes, EventContext } from '@dvd/platform';

/** document.purged → delete the document's export jobs (receipts included); PII-free audit line. */
@Injectable()
export class ForgetExportJobsOnDocumentPurged {
  private readonly logger = new Logger('audit');

  @Consumes('document.purged')
  async forget(d: EventMap['document.purged'], { manager }: EventContext<'document.purged'>): Promise<void> {
    const [deleted] = (await manager.query(`DELETE FROM export_jobs WHERE document_id = $1 RETURNING id`, [d.documentId])) as [
      unknown[],
      number,
    ];
    this.logger.log(
      { audit: 'document.purged', documentId: d.documentId, service: 'export-worker', jobs: deleted.length, at: new Date().toISOString() },
      'purged',
    );
  }
}
