import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Messaging } from '@dvd/platform';

/** document.purged → delete the routing decision, and write the PII-free audit line. */
@Injectable()
export class ForgetDecisionOnDocumentPurged implements OnModuleInit {
  private readonly logger = new Logger('audit');

  constructor(private readonly messaging: Messaging) {}

  onModuleInit() {
    this.messaging.on('document.purged', async (data, { manager }) => {
      await manager.query(`DELETE FROM routing_decisions WHERE document_id = $1`, [data.documentId]);
      this.logger.log(
        { audit: 'document.purged', documentId: data.documentId, service: 'routing-engine', at: new Date().toISOString() },
        'purged',
      );
    });
  }
}
