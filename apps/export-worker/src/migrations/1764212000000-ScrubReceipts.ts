import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Receipts are now kept only as small JSON objects (≤ 4 KiB, see delivery/receipt.ts) and
 * errors only as categories. Receipts stored under the old rule (any JSON up to 64 KiB)
 * that break the new one are dropped: they are a receiver's raw answer.
 */
export class ScrubReceipts1764212000000 implements MigrationInterface {
  name = 'ScrubReceipts1764212000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE export.export_jobs SET receipt = NULL
        WHERE receipt IS NOT NULL AND receipt <> 'null'::jsonb AND (jsonb_typeof(receipt) <> 'object' OR octet_length(receipt::text) > 4096)`,
    );
  }

  async down(): Promise<void> {
    // nothing to restore
  }
}
