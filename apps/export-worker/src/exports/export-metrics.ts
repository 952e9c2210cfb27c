import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { METRICS_REGISTRY, catalogueCounter, catalogueGauge, initialiseLabels } from '@dvd/platform';
import type { ExportFailure } from './export-runner';

/** Every failure category, so that each series exists (at 0) before its first failure. */
const CATEGORIES: Record<ExportFailure, true> = {
  'payload-unreadable': true,
  'payload-mismatch': true,
  'messages-unavailable': true,
  'package-write-failed': true,
  'document-gone': true,
  'no-ingest-settings': true,
  'service-unavailable': true,
  'delivery-retryable': true,
  'delivery-rejected': true,
};

export type AttemptOutcome = 'delivered' | 'retry' | 'failed';

/** Export attempts and failures, and the backlog read from Postgres at scrape time (docs/metrics.md). */
@Injectable()
export class ExportMetrics {
  private readonly attempts;
  private readonly failures;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry, @InjectDataSource() db: DataSource) {
    this.attempts = catalogueCounter(registry, 'dvd_export_attempts_total');
    this.failures = catalogueCounter(registry, 'dvd_export_failures_total');
    initialiseLabels(this.attempts, [{ outcome: 'delivered' }, { outcome: 'retry' }, { outcome: 'failed' }]);
    initialiseLabels(
      this.failures,
      Object.keys(CATEGORIES).map((category) => ({ category })),
    );
    // both served by export_jobs_due_idx (partial: PENDING and RUNNING jobs only)
    catalogueGauge(registry, 'dvd_export_jobs_pending', async (gauge) => {
      const [row]: Array<{ n: number }> = await db.query(
        `SELECT count(*)::int AS n FROM export_jobs WHERE status IN ('PENDING', 'RUNNING')`,
      );
      gauge.set(row?.n ?? 0);
    });
    catalogueGauge(registry, 'dvd_export_oldest_pending_age_seconds', async (gauge) => {
      const [row]: Array<{ age: number | null }> = await db.query(
        `SELECT extract(epoch FROM now() - min(created_at))::float8 AS age FROM export_jobs WHERE status IN ('PENDING', 'RUNNING')`,
      );
      gauge.set(Math.max(0, row?.age ?? 0));
    });
  }

  /** One attempt ended: delivered, to be retried, or the job gave up; a failed one by its category. */
  attempt(outcome: AttemptOutcome, category?: ExportFailure): void {
    this.attempts.inc({ outcome });
    if (category) this.failures.inc({ category });
  }
}
