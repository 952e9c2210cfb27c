import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ObjectStorage } from '@dvd/platform';

/** Uploads older than this without a commit are abandoned (a crash, or S3 failing on cleanup). */
export const ABANDONED_AFTER_MS = 60 * 60 * 1000;
const SWEEP_EVERY_MS = 5 * 60 * 1000;
const BATCH = 100;

/**
 * Deletes objects whose upload never committed, and expired Idempotency-Key records. A row in pending_objects is written
 * before an upload starts and deleted in the transaction that creates the document, so
 * every remaining old row is an orphan. Rows are locked (SKIP LOCKED) while their objects
 * are deleted, so replicas share the work; an upload whose row was swept fails its commit
 * instead of creating a document without an object.
 */
@Injectable()
export class PendingObjectSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PendingObjectSweeper.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly storage: ObjectStorage,
  ) {}

  onApplicationBootstrap() {
    this.timer = setInterval(
      () => void this.sweep().catch((err: Error) => this.logger.warn({ errorName: err.name }, 'sweep failed')),
      SWEEP_EVERY_MS,
    );
    this.timer.unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  async sweep(olderThanMs = ABANDONED_AFTER_MS): Promise<number> {
    let total = 0;
    // an object the store refuses to delete is skipped for the rest of this sweep, so it
    // cannot hold up the others (it is tried again by the next sweep)
    const failed: string[] = [];
    for (;;) {
      const { picked, swept } = await this.db.transaction(async (manager) => {
        const rows: Array<{ object_key: string }> = await manager.query(
          `SELECT object_key FROM pending_objects WHERE created_at < now() - ($1::bigint * interval '1 millisecond')
              AND NOT (object_key = ANY($2::text[]))
            ORDER BY created_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
          [olderThanMs, failed],
        );
        const deleted: string[] = [];
        for (const row of rows) {
          try {
            await this.storage.delete(row.object_key);
            deleted.push(row.object_key);
          } catch {
            failed.push(row.object_key);
          }
        }
        if (deleted.length) await manager.query(`DELETE FROM pending_objects WHERE object_key = ANY($1)`, [deleted]);
        return { picked: rows.length, swept: deleted.length };
      });
      total += swept;
      if (picked < BATCH) break;
    }
    if (failed.length) this.logger.warn({ objects: failed.length }, 'abandoned upload objects not deletable now; retried next sweep');
    if (total) this.logger.log({ objects: total }, 'abandoned upload objects deleted');
    // Idempotency-Keys are kept 24 h (expires_at); then they go
    await this.db.query(`DELETE FROM idempotency_keys WHERE expires_at < now() AND status = 'DONE'`);
    return total;
  }
}
