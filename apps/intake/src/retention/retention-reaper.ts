import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Messaging, ObjectStorage } from '@dvd/platform';
import { INTAKE_CONFIG } from '../intake-config.token';
import { IntakeConfig } from '../intake.config';

export const REAP_BATCH = 100;

interface Expired {
  id: string;
  authority_id: string;
  payload_key: string;
}

/**
 * GDPR storage limitation: every REAPER_INTERVAL_MS, documents past their retentionDate
 * are deleted with their object and idempotency records, and document.purged tells the
 * other services to delete theirs. Batches of 100 rows are locked with SKIP LOCKED, so
 * several replicas share a backlog without double work and without long locks. Objects
 * are deleted first, rows last, in the transaction that also writes the events: a crash
 * in between leaves the rows, and the next run deletes the (already missing) objects
 * again — S3 deletes are idempotent — and finishes.
 */
@Injectable()
export class RetentionReaper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('audit');
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly messaging: Messaging,
    private readonly storage: ObjectStorage,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.run(), this.config.REAPER_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown() {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass over everything expired; returns how many documents were purged. */
  run(hooks: { afterObjectsDeleted?: () => Promise<void> } = {}): Promise<number> {
    if (!this.running) {
      this.running = this.reapAll(hooks)
        .catch((err: Error) => {
          new Logger(RetentionReaper.name).warn({ errorName: err.name }, 'retention pass interrupted; the next pass resumes');
          return 0;
        })
        .finally(() => (this.running = undefined));
    }
    return this.running;
  }

  private async reapAll(hooks: { afterObjectsDeleted?: () => Promise<void> }): Promise<number> {
    let total = 0;
    for (;;) {
      const purged = await this.reapBatch(hooks);
      total += purged;
      if (purged < REAP_BATCH) return total;
    }
  }

  private async reapBatch(hooks: { afterObjectsDeleted?: () => Promise<void> }): Promise<number> {
    return this.messaging.transaction(async (manager, emit) => {
      // documents_retention_idx serves this; SKIP LOCKED hands other replicas the next batch
      const expired: Expired[] = await manager.query(
        `SELECT id, authority_id, payload_key FROM documents WHERE retention_date <= now()
          ORDER BY retention_date LIMIT ${REAP_BATCH} FOR UPDATE SKIP LOCKED`,
      );
      if (!expired.length) return 0;
      await Promise.all(expired.map((d) => this.storage.delete(d.payload_key)));
      await hooks.afterObjectsDeleted?.();
      const ids = expired.map((d) => d.id);
      await manager.query(`DELETE FROM idempotency_keys WHERE document_id = ANY($1::uuid[])`, [ids]);
      await manager.query(`DELETE FROM documents WHERE id = ANY($1::uuid[])`, [ids]);
      const at = new Date().toISOString();
      for (const d of expired) {
        await emit('document.purged', { documentId: d.id, authorityId: d.authority_id });
        this.logger.log({ audit: 'document.purged', documentId: d.id, service: 'intake', at }, 'purged');
      }
      return expired.length;
    });
  }
}
