import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Messaging, ObjectStorage } from '@dvd/platform';
import { deliverWebhook } from '../delivery/webhook-delivery';
import { backoffMs } from '../delivery/retry-policy';
import { ExportWorkerConfig } from '../export-worker.config';
import { buildCasePackage } from '../packaging/case-package';
import { ServiceClients } from './service-clients';

export const EXPORT_CONFIG = Symbol('EXPORT_CONFIG');

interface LeasedJob {
  id: string;
  document_id: string;
  authority_id: string;
  attempts: number;
}

/**
 * Works export jobs. A job is leased (status RUNNING, locked_until) by one worker at a
 * time — `FOR UPDATE SKIP LOCKED` lets replicas compete — and every state change is
 * fenced by the attempt number, so a worker that lost its lease cannot overwrite a newer
 * attempt. A worker that dies leaves its lease to expire, and the job is picked up again.
 * export.requested kicks the loop at once; a poll finds due retries and expired leases.
 */
@Injectable()
export class ExportRunner implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
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
    @Inject(EXPORT_CONFIG) private readonly config: ExportWorkerConfig,
  ) {}

  onModuleInit() {
    // the job row is committed with the event; the handler only wakes a worker
    this.messaging.on('export.requested', async () => {
      setImmediate(() => this.kick());
    });
    this.messaging.on('document.purged', async (d, { manager }) => {
      const [deleted] = (await manager.query(`DELETE FROM export_jobs WHERE document_id = $1 RETURNING id`, [d.documentId])) as [
        unknown[],
        number,
      ];
      this.logger.log(
        {
          audit: 'document.purged',
          documentId: d.documentId,
          service: 'export-worker',
          jobs: deleted.length,
          at: new Date().toISOString(),
        },
        'purged',
      );
    });
  }

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
        RETURNING id, document_id, authority_id, attempts`,
      [this.config.EXPORT_LEASE_MS],
    )) as [LeasedJob[], number];
    return rows[0];
  }

  private async work(job: LeasedJob): Promise<void> {
    const path = join(tmpdir(), `dvd-export-${job.id}-${randomBytes(4).toString('hex')}.zip`);
    this.logger.log({ jobId: job.id, documentId: job.document_id, attempt: job.attempts }, 'export attempt');
    try {
      const [document, threads, ingest] = await Promise.all([
        this.clients.document(job.document_id),
        this.clients.threads(job.document_id),
        this.clients.ingest(job.authority_id),
      ]);
      if (!document) return await this.fail(job, 'the document no longer exists');
      if (!ingest) return await this.fail(job, 'the authority has no ingest settings');
      const payload = (await this.storage.download(document.payload.key)).body;
      const pkg = await buildCasePackage({ path, jobId: job.id, document, threads, payload });
      const outcome = await deliverWebhook(
        { jobId: job.id, documentId: job.document_id, authorityId: job.authority_id, pkg, timestamp: new Date() },
        { url: ingest.ingestUrl, secret: ingest.ingestSecret },
        this.config.EXPORT_DELIVERY_TIMEOUT_MS,
      );
      switch (outcome.kind) {
        case 'delivered':
          return await this.complete(job, outcome.receipt ?? null, pkg);
        case 'fail':
          return await this.fail(job, outcome.reason);
        case 'retry':
          return await this.retryLater(job, outcome.reason, outcome.retryAfterMs);
      }
    } catch (err) {
      // our own side failed (a service or storage did not answer): try again later
      await this.retryLater(job, `export could not be built: ${(err as Error).name}`);
    } finally {
      await rm(path, { force: true });
    }
  }

  private async complete(job: LeasedJob, receipt: unknown, pkg: { size: number; sha256: string }) {
    await this.messaging.transaction(async (manager, emit) => {
      const [done] = (await manager.query(
        `UPDATE export_jobs SET status = 'COMPLETED', completed_at = now(), locked_until = NULL, last_error = NULL, receipt = $3,
                package_sha256 = $4, package_size = $5
          WHERE id = $1 AND attempts = $2 AND status = 'RUNNING' RETURNING id`,
        [job.id, job.attempts, JSON.stringify(receipt), pkg.sha256, pkg.size],
      )) as [unknown[], number];
      if (done.length) await emit('export.completed', { jobId: job.id, documentId: job.document_id, authorityId: job.authority_id });
    });
    this.logger.log({ jobId: job.id, documentId: job.document_id, attempts: job.attempts, size: pkg.size }, 'export delivered');
  }

  private async fail(job: LeasedJob, reason: string) {
    await this.messaging.transaction(async (manager, emit) => {
      const [done] = (await manager.query(
        `UPDATE export_jobs SET status = 'FAILED', completed_at = now(), locked_until = NULL, last_error = $3
          WHERE id = $1 AND attempts = $2 AND status = 'RUNNING' RETURNING id`,
        [job.id, job.attempts, reason],
      )) as [unknown[], number];
      if (done.length) await emit('export.failed', { jobId: job.id, documentId: job.document_id, authorityId: job.authority_id, reason });
    });
    this.logger.warn({ jobId: job.id, documentId: job.document_id, attempts: job.attempts, reason }, 'export failed');
  }

  private async retryLater(job: LeasedJob, reason: string, retryAfterMs?: number) {
    if (job.attempts >= this.config.EXPORT_MAX_ATTEMPTS) return this.fail(job, `${reason} (after ${job.attempts} attempts)`);
    const delay = backoffMs(job.attempts, this.config.EXPORT_RETRY_BASE_MS, Math.random, retryAfterMs);
    await this.db.query(
      `UPDATE export_jobs SET status = 'PENDING', locked_until = NULL, last_error = $3, next_attempt_at = now() + ($4::bigint * interval '1 millisecond')
        WHERE id = $1 AND attempts = $2 AND status = 'RUNNING'`,
      [job.id, job.attempts, reason, delay],
    );
    this.logger.warn({ jobId: job.id, attempts: job.attempts, reason, retryInMs: delay }, 'export will be retried');
  }
}
