import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Messaging, ObjectStorage, afterCommit } from '@dvd/platform';
import { WebhookDelivery } from '../delivery/webhook-delivery';
import { backoffMs } from '../delivery/retry-policy';
import { ExportWorkerConfig } from '../export-worker.config';
import { PackagingError, PackagingFailure, buildCasePackage } from '../packaging/case-package';
import { ExportMetrics } from './export-metrics';
import { ServiceClients } from './service-clients';

export const EXPORT_CONFIG = Symbol('EXPORT_CONFIG');

/**
 * Why an attempt failed, as stored in `last_error_category` (and shown as `lastErrorCategory`):
 * a fixed vocabulary, never an underlying error's text.
 */
export type ExportFailure =
  PackagingFailure | 'document-gone' | 'no-ingest-settings' | 'service-unavailable' | 'delivery-retryable' | 'delivery-rejected';

const PACKAGING_REASON: Record<PackagingFailure, string> = {
  'payload-unreadable': 'the payload could not be read from storage',
  'payload-mismatch': 'the stored payload does not match the sha256 recorded at upload',
  'messages-unavailable': 'threads or messages could not be read',
  'package-write-failed': 'the package file could not be written',
};

interface LeasedJob {
  id: string;
  document_id: string;
  authority_id: string;
  unit_id: string | null;
  attempts: number;
}

/**
 * Works export jobs. A job is leased (status RUNNING, locked_until) by one worker at a
 * time — `FOR UPDATE SKIP LOCKED` lets replicas compete — and every state change is
 * fenced by the attempt number, so a worker that lost its lease cannot overwrite a newer
 * attempt. A worker that dies leaves its lease to expire, and the job is picked up again.
 * export.requested kicks the loop at once (WakeExportRunnerOnExportRequested); a poll finds
 * due retries and expired leases.
 */
@Injectable()
export class ExportRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ExportRunner.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly messaging: Messaging,
    private readonly storage: ObjectStorage,
    private readonly clients: ServiceClients,
    private readonly delivery: WebhookDelivery,
    @Inject(EXPORT_CONFIG) private readonly config: ExportWorkerConfig,
    private readonly metrics: ExportMetrics,
  ) {}

  onApplicationBootstrap() {
    this.timer = setInterval(() => this.kick(), this.config.EXPORT_POLL_MS);
    this.timer.unref();
    this.kick();
  }

  async onApplicationShutdown() {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      for (let job = await this.lease(); job && !this.stopped; job = await this.lease()) await this.work(job);
    } catch (err) {
      this.logger.warn({ errorName: (err as Error).name }, 'export loop interrupted; will retry');
    }
  }

  private async lease(): Promise<LeasedJob | undefined> {
    const [rows] = (await this.db.query(
      `UPDATE export_jobs SET status = 'RUNNING', attempts = attempts + 1, last_attempt_at = now(),
              locked_until = now() + ($1::bigint * interval '1 millisecond')
        WHERE id = (SELECT id FROM export_jobs
                     WHERE status IN ('PENDING', 'RUNNING') AND next_attempt_at <= now()
                       AND (locked_until IS NULL OR locked_until < now())
                     ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING id, document_id, authority_id, unit_id, attempts`,
      [this.config.EXPORT_LEASE_MS],
    )) as [LeasedJob[], number];
    return rows[0];
  }

  private async work(job: LeasedJob): Promise<void> {
    this.logger.log({ jobId: job.id, documentId: job.document_id, attempt: job.attempts }, 'export attempt');
    let dir: string | undefined;
    try {
      const [document, ingest] = await Promise.all([this.clients.document(job.document_id), this.clients.ingest(job.authority_id)]);
      if (!document) return await this.fail(job, 'document-gone', 'the document no longer exists');
      if (!ingest) return await this.fail(job, 'no-ingest-settings', 'the authority has no ingest settings');
      // every attempt starts afresh: its own directory, its own streams
      dir = await mkdtemp(join(this.config.EXPORT_TMP_DIR, `dvd-export-${job.id}-`));
      const pkg = await buildCasePackage({
        dir,
        jobId: job.id,
        document,
        source: this.clients,
        openPayload: async () => (await this.storage.download(document.payload.key)).body,
      });
      const outcome = await this.delivery.deliver(
        { jobId: job.id, documentId: job.document_id, authorityId: job.authority_id, pkg, timestamp: new Date() },
        ingest,
      );
      switch (outcome.kind) {
        case 'delivered':
          return await this.complete(job, outcome.receipt ?? null, pkg);
        case 'fail':
          return await this.fail(job, 'delivery-rejected', outcome.reason);
        case 'retry':
          return await this.retryLater(job, 'delivery-retryable', outcome.reason, outcome.retryAfterMs);
      }
    } catch (err) {
      // our own side failed (storage, a service, the disk): this attempt failed, a later one starts afresh
      if (err instanceof PackagingError) await this.retryLater(job, err.category, PACKAGING_REASON[err.category]);
      else if (!dir) await this.retryLater(job, 'service-unavailable', 'a service the export needs did not answer');
      else await this.retryLater(job, 'package-write-failed', PACKAGING_REASON['package-write-failed']);
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  private async complete(job: LeasedJob, receipt: unknown, pkg: { size: number; sha256: string }) {
    await this.messaging.transaction(async (manager, emit) => {
      const [done] = (await manager.query(
        `UPDATE export_jobs SET status = 'COMPLETED', completed_at = now(), locked_until = NULL, last_error = NULL, last_error_category = NULL, receipt = $3,
                package_sha256 = $4, package_size = $5
          WHERE id = $1 AND attempts = $2 AND status = 'RUNNING' RETURNING id`,
        [job.id, job.attempts, JSON.stringify(receipt), pkg.sha256, pkg.size],
      )) as [unknown[], number];
      if (!done.length) return; // the lease went to a newer attempt meanwhile
      await emit('export.completed', { jobId: job.id, documentId: job.document_id, authorityId: job.authority_id, unitId: job.unit_id });
      afterCommit(manager, () => this.metrics.attempt('delivered'));
    });
    this.logger.log({ jobId: job.id, documentId: job.document_id, attempts: job.attempts, size: pkg.size }, 'export delivered');
  }

  private async fail(job: LeasedJob, category: ExportFailure, reason: string) {
    await this.messaging.transaction(async (manager, emit) => {
      const [done] = (await manager.query(
        `UPDATE export_jobs SET status = 'FAILED', completed_at = now(), locked_until = NULL, last_error = $3, last_error_category = $4
          WHERE id = $1 AND attempts = $2 AND status = 'RUNNING' RETURNING id`,
        [job.id, job.attempts, reason, category],
      )) as [unknown[], number];
      if (!done.length) return;
      await emit('export.failed', {
        jobId: job.id,
        documentId: job.document_id,
        authorityId: job.authority_id,
        unitId: job.unit_id,
        reason,
      });
      afterCommit(manager, () => this.metrics.attempt('failed', category));
    });
    this.logger.warn({ jobId: job.id, documentId: job.document_id, attempts: job.attempts, category }, 'export failed');
  }

  private async retryLater(job: LeasedJob, category: ExportFailure, reason: string, retryAfterMs?: number) {
    if (job.attempts >= this.config.EXPORT_MAX_ATTEMPTS) return this.fail(job, category, `${reason} (after ${job.attempts} attempts)`);
    const delay = backoffMs(job.attempts, this.config.EXPORT_RETRY_BASE_MS, Math.random, retryAfterMs);
    await this.db.query(
      `UPDATE export_jobs SET status = 'PENDING', locked_until = NULL, last_error = $3, last_error_category = $5,
              next_attempt_at = now() + ($4::bigint * interval '1 millisecond')
        WHERE id = $1 AND attempts = $2 AND status = 'RUNNING'`,
      [job.id, job.attempts, reason, delay, category],
    );
    this.metrics.attempt('retry', category);
    this.logger.warn({ jobId: job.id, attempts: job.attempts, category, retryInMs: delay }, 'export attempt failed; will be retried');
  }
}
