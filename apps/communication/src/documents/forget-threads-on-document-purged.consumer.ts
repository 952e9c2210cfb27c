import { Injectable, Logger } from '@nestjs/common';
import { EventMap } from '@dvd/contracts';
import { Consumes, EventContext } from '@dvd/platform';

/** document.purged → delete the document's threads (their messages with them) and the known document; PII-free audit line. */
@Injectable()
export class ForgetThreadsOnDocumentPurged {
  private readonly logger = new Logger('audit');

  @Consumes('document.purged')
  async forget(d: EventMap['document.purged'], { manager }: EventContext<'document.purged'>): Promise<void> {
    const [threads] = (await manager.query(`DELETE FROM threads WHERE document_id = $1 RETURNING id`, [d.documentId])) as [
      unknown[],
      number,
    ];
    await manager.query(`DELETE FROM known_documents WHERE document_id = $1`, [d.documentId]);
    // PII-free audit line: deletion can be proven by document id
    this.logger.log(
      {
        audit: 'document.purged',
        documentId: d.documentId,
        service: 'communication',
        threads: threads.length,
        at: new Date().toISOString(),
      },
      'purged',
    );
  }
}
