import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Registry } from 'prom-client';
import { DataSource, EntityManager } from 'typeorm';
import { METRICS_REGISTRY, afterCommit, catalogueCounter, catalogueGauge } from '@dvd/platform';

/** The routing counters and the unroutable gauge (docs/metrics.md). */
@Injectable()
export class RoutingMetrics {
  private readonly routed;
  private readonly unroutable;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry, @InjectDataSource() db: DataSource) {
    this.routed = catalogueCounter(registry, 'dvd_documents_routed_total');
    this.unroutable = catalogueCounter(registry, 'dvd_documents_unroutable_total');
    catalogueGauge(registry, 'dvd_documents_unroutable', async (gauge) => {
      // served by routing_decisions_unroutable_idx (partial: UNROUTABLE rows only)
      const [row]: Array<{ n: number }> = await db.query(`SELECT count(*)::int AS n FROM routing_decisions WHERE outcome = 'UNROUTABLE'`);
      gauge.set(row?.n ?? 0);
    });
  }

  /** A decision of this transaction gave a document a unit (first or again): counted once it commits. */
  routedIn(manager: EntityManager): void {
    afterCommit(manager, () => this.routed.inc());
  }

  /** A received document's first decision found no unit: counted once it commits. */
  unroutableIn(manager: EntityManager): void {
    afterCommit(manager, () => this.unroutable.inc());
  }
}
