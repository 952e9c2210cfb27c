import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { BatchSweeper, METRICS_REGISTRY, Messaging, catalogueGauge } from '@dvd/platform';
import { INTAKE_CONFIG } from '../intake-config.token';
import { IntakeConfig } from '../intake.config';
import { AWAITING_STATUSES, overdueSql, statusListSql } from './document-status';

/** Documents reported per transaction; a pass continues until none is due. */
export const OVERDUE_BATCH = 100;

/**
 * Escalation of forgotten documents (ADR 0020): every OVERDUE_SWEEP_INTERVAL_MS, routed
 * documents whose deadline (`overdue_at`: routing time + the authority's claimDeadline) has
 * passed while they still wait — no thread claimed, no decision, not exported — are
 * marked (`overdue_since`) and reported with `document.overdue`, in one transaction, once.
 *
 * Every replica sweeps; rows are taken `FOR UPDATE SKIP LOCKED` and the mark is re-checked
 * under the lock, so replicas share the work and each document is reported exactly once.
 * The mark is never removed: a claim, a decision or an export moves the status on, which
 * clears `overdue` (see `isOverdue`), and a document never returns to ROUTED.
 *
 * The gauge `dvd_documents_overdue{authority_id}` counts the overdue documents per
 * authority (every known authority, 0 included) from Postgres when it is scraped, so
 * every replica reports the same number (aggregate with max, not sum).
 */
@Injectable()
export class OverdueSweeper extends BatchSweeper {
  constructor(
    private readonly messaging: Messaging,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(INTAKE_CONFIG) config: IntakeConfig,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    super(new Logger(OverdueSweeper.name), {
      name: 'overdue sweep',
      batchSize: OVERDUE_BATCH,
      intervalMs: () => config.OVERDUE_SWEEP_INTERVAL_MS,
      done: ['documents', 'overdue documents reported'],
    });
    const { db: database, logger } = this;
    catalogueGauge(
      registry,
      'dvd_documents_overdue',
      async (gauge) => {
        // served by documents_overdue_idx; authorities without overdue documents report 0
        const rows: Array<{ authority_id: string; n: number }> = await database.query(
          `SELECT a.authority_id, count(d.id)::int AS n
             FROM (SELECT id AS authority_id FROM authorities WHERE NOT deleted
                   UNION SELECT DISTINCT authority_id FROM documents WHERE ${overdueSql()}) a
             LEFT JOIN documents d ON d.authority_id = a.authority_id AND ${overdueSql('d')}
            GROUP BY a.authority_id`,
        );
        gauge.reset();
        for (const r of rows) gauge.set({ authority_id: r.authority_id }, r.n);
      },
      // the last values stay
      (err) => logger.warn({ errorName: (err as Error).name }, 'overdue gauge not updated: database unavailable'),
    );
  }

  /** Marks and reports up to OVERDUE_BATCH due documents in one transaction (ids only in the events). */
  protected batch(): Promise<number> {
    return this.messaging.transaction(async (manager, emit) => {
      // documents_overdue_due_idx serves the scan
      const [rows] = (await manager.query(
        `UPDATE documents d SET overdue_since = now(), version = d.version + 1, updated_at = now()
           FROM (SELECT id FROM documents
                  WHERE overdue_since IS NULL AND status IN (${statusListSql(AWAITING_STATUSES)}) AND overdue_at <= now()
                  ORDER BY overdue_at LIMIT ${OVERDUE_BATCH} FOR UPDATE SKIP LOCKED) due
          WHERE d.id = due.id AND d.overdue_since IS NULL
          RETURNING d.id, d.authority_id, d.unit_id`,
      )) as [Array<{ id: string; authority_id: string; unit_id: string }>, number];
      for (const r of rows) {
        await emit('document.overdue', { documentId: r.id, authorityId: r.authority_id, unitId: r.unit_id });
      }
      return rows.length;
    });
  }
}
