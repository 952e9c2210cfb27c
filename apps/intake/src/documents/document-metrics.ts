import { Inject, Injectable } from '@nestjs/common';
import { Registry } from 'prom-client';
import { EntityManager } from 'typeorm';
import { METRICS_REGISTRY, afterCommit, catalogueCounter } from '@dvd/platform';

/** Intake's document counters (docs/metrics.md). */
@Injectable()
export class DocumentMetrics {
  private readonly received;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.received = catalogueCounter(registry, 'dvd_documents_received_total');
  }

  /** A document stored in this transaction (an upload, or the new document of a forward): counted once it commits. */
  receivedIn(manager: EntityManager): void {
    afterCommit(manager, () => this.received.inc());
  }
}
