import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter, Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { METRICS_REGISTRY, Messaging, ObjectStorage, catalogueCounter, catalogueGauge, initialiseLabels } from '@dvd/platform';
import { INTAKE_CONFIG } from '../intake-config.token';
import { IntakeConfig } from '../intake.config';
import { purgeBackoffMs, safeErrorCode } from './purge-backoff';

/** Documents claimed per round; each is purged on its own. */
export const REAP_BATCH = 25;
/** A claim keeps other replicas away this long; a replica that dies leaves its claims to be retried after it. */
export const PURGE_CLAIM_LEASE_MS = 5 * 60_000;
/** Objects deleted at once by one replica. */
const PURGE_CONCURRENCY = 4;
/** One object delete (all its versions) may take this long before it counts as failed. */
const OBJECT_DELETE_TIMEOUT_MS = 30_000;

interface Claimed {
  id: string;
  authority_id: string;
  payload_key: string;
  purge_attempts: number;
}

/** What one pass did; logged as one line and exported as metrics. Counts only, no ids. */
export interface ReaperPass {
  purged: number;
  failed: number;
  /** Expired documents this pass left alone: waiting for a retry after a failure, or claimed by another replica. */
  deferred: number;
  durationMs: number;
}

export interface ReaperHooks {
  /** Test seam: runs between a document's object delete and its row delete (a crash there). */
  afterObjectDeleted?: (documentId: string) => Promise<void>;
}

/**
 * GDPR storage limitation: every REAPER_INTERVAL_MS, documents past their retentionDate
 * are deleted with their object and idempotency records, and document.purged tells the
 * other services to delete theirs (ADR 0008, 0010).
 *
 * A round claims up to REAP_BATCH expired rows (`FOR UPDATE SKIP LOCKED`, then
 * `purge_next_at = now() + lease`, so replicas share a backlog without double work and
 * no lock is held while S3 is called). Each document is then purged on its own: its
 * object (every version), then in one transaction its row, its idempotency records and
 * its document.purged. A document whose object cannot be deleted is marked
 * (`purge_attempts`, `purge_error_code`, `purge_next_at` with exponential backoff) and
 * retried by a later pass; it never holds up the others. A crash after the object delete
 * leaves the row claimed; after the lease the next pass deletes the (missing) object
 * again — idempotent — and finishes. The row delete decides who emits: only the replica
 * whose DELETE removed the row publishes the event.
 */
@Injectable()
export class RetentionReaper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly audit = new Logger('audit');
  private readonly logger = new Logger(RetentionReaper.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<ReaperPass>;
  private readonly metrics: {
    runs: Counter<'outcome'>;
    purged: Counter;
    failures: Counter;
    deferred: Gauge;
    lastRun: Gauge;
    lastDuration: Gauge;
  };

  constructor(
    private readonly messaging: Messaging,
    private readonly storage: ObjectStorage,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.metrics = {
      runs: catalogueCounter(registry, 'dvd_reaper_runs_total'),
      purged: catalogueCounter(registry, 'dvd_reaper_purged_total'),
      failures: catalogueCounter(registry, 'dvd_reaper_failures_total'),
      deferred: catalogueGauge(registry, 'dvd_reaper_deferred'),
      lastRun: catalogueGauge(registry, 'dvd_reaper_last_run_timestamp_seconds'),
      lastDuration: catalogueGauge(registry, 'dvd_reaper_last_run_duration_seconds'),
    };
    initialiseLabels(this.metrics.runs, [{ outcome: 'completed' }, { outcome: 'interrupted' }]);
  }

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.run(), this.config.REAPER_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown() {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass over everything expired and due; one at a time per replica. */
  run(hooks: ReaperHooks = {}): Promise<ReaperPass> {
    if (!this.running) {
      const started = performance.now();
      this.running = this.reapAll(hooks, started)
        .then(
          (pass) => {
            this.metrics.runs.inc({ outcome: 'completed' });
            this.logger.log(pass, 'retention pass');
            return pass;
          },
          (err: Error) => {
            // Postgres unreachable (claims or the deferred count): nothing was lost, the next pass resumes
            this.metrics.runs.inc({ outcome: 'interrupted' });
            const pass: ReaperPass = { purged: 0, failed: 0, deferred: 0, durationMs: Math.round(performance.now() - started) };
            this.logger.warn({ ...pass, errorName: err.name }, 'retention pass interrupted; the next pass resumes');
            return pass;
          },
        )
        .finally(() => {
          this.metrics.lastRun.set(Date.now() / 1000);
          this.metrics.lastDuration.set((performance.now() - started) / 1000);
          this.running = undefined;
        });
    }
    return this.running;
  }

  private async reapAll(hooks: ReaperHooks, started: number): Promise<ReaperPass> {
    let purged = 0;
    let failed = 0;
    for (;;) {
      const claimed = await this.claim();
      const outcomes = await mapConcurrently(claimed, PURGE_CONCURRENCY, (d) => this.purgeOne(d, hooks));
      purged += outcomes.filter((o) => o === 'purged').length;
      failed += outcomes.filter((o) => o === 'failed').length;
      if (claimed.length < REAP_BATCH) break;
    }
    const [{ n }]: Array<{ n: number }> = await this.db.query(
      `SELECT count(*)::int AS n FROM documents WHERE purge_next_at > now() AND retention_date <= now()`,
    );
    this.metrics.deferred.set(n);
    return { purged, failed, deferred: n, durationMs: Math.round(performance.now() - started) };
  }

  /** Claims due expired rows for this replica (short statement; the row locks end with it). */
  private async claim(): Promise<Claimed[]> {
    // documents_retention_idx serves the scan; rows backing off (purge_next_at ahead) are passed over
    const [rows] = (await this.db.query(
      `UPDATE documents SET purge_next_at = now() + ($1::bigint * interval '1 millisecond')
        WHERE id IN (SELECT id FROM documents
                      WHERE retention_date <= now() AND (purge_next_at IS NULL OR purge_next_at <= now())
                      ORDER BY retention_date LIMIT ${REAP_BATCH} FOR UPDATE SKIP LOCKED)
        RETURNING id, authority_id, payload_key, purge_attempts`,
      [PURGE_CLAIM_LEASE_MS],
    )) as [Claimed[], number];
    return rows;
  }

  private async purgeOne(d: Claimed, hooks: ReaperHooks): Promise<'purged' | 'gone' | 'failed'> {
    try {
      await this.storage.delete(d.payload_key, { signal: AbortSignal.timeout(OBJECT_DELETE_TIMEOUT_MS) });
      await hooks.afterObjectDeleted?.(d.id);
      const purged = await this.messaging.transaction(async (manager, emit) => {
        const [rows] = (await manager.query(`DELETE FROM documents WHERE id = $1 RETURNING id`, [d.id])) as [unknown[], number];
        if (rows.length === 0) return false; // another replica finished it after our lease ran out
        await manager.query(`DELETE FROM idempotency_keys WHERE document_id = $1`, [d.id]);
        await emit('document.purged', { documentId: d.id, authorityId: d.authority_id });
        return true;
      });
      if (!purged) return 'gone';
      this.metrics.purged.inc();
      this.audit.log({ audit: 'document.purged', documentId: d.id, service: 'intake', at: new Date().toISOString() }, 'purged');
      return 'purged';
    } catch (err) {
      this.metrics.failures.inc();
      const attempts = d.purge_attempts + 1;
      const errorCode = safeErrorCode(err);
      this.logger.warn({ documentId: d.id, attempts, errorCode }, 'purge failed; retried later');
      await this.db
        .query(
          `UPDATE documents SET purge_attempts = $2, purge_error_code = $3,
             purge_next_at = now() + ($4::bigint * interval '1 millisecond') WHERE id = $1`,
          [d.id, attempts, errorCode, purgeBackoffMs(attempts)],
        )
        .catch(() => undefined); // the claim's lease runs out instead, and the next pass retries
      return 'failed';
    }
  }
}

/** Runs `fn` over `items` with at most `limit` at a time, in order of the results. */
async function mapConcurrently<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
