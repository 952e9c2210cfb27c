import { Injectable, Logger } from '@nestjs/common';
import { EventMap } from '@dvd/contracts';
import { Consumes, EventContext } from '@dvd/platform';

/** document.purged → delete the routing decision, and write the PII-free audit line. */
@Injectable()
export class ForgetDecisionOnDocumentPurged {
  private readonly logger = new Logger('audit');

  @Consumes('document.purged')
  async forget(data: EventMap['document.purged'], { manager }: EventContext<'document.purged'>): Promise<void> {
    await manager.query(`DELETE FROM routing_decisions WHERE document_id = $1`, [data.documentId]);
    this.logger.log(
      { audit: 'document.purged', documentId: data.documentId, service: 'routing-engine', at: new Date().toISOString() },
      'purged',
    );
  }
}
