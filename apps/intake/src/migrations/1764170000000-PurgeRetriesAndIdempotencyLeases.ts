import { MigrationInterface, QueryRunner } from 'typeorm';

export class PurgeRetriesAndIdempotencyLeases1764170000000 implements MigrationInterface {
  name = 'PurgeRetriesAndIdempotencyLeases1764170000000';

  async up(q: QueryRunner): Promise<void> {
    // The reaper's per-document state: a claim (purge_next_at = now + lease) or, after a
    // failed object delete, when to try again, how often it failed and S3's error code.
    await q.query(`
      ALTER TABLE intake.documents
        ADD COLUMN purge_attempts integer NOT NULL DEFAULT 0,
        ADD COLUMN purge_next_at timestamptz,
        ADD COLUMN purge_error_code text`);
    await q.query(`CREATE INDEX documents_purge_next_idx ON intake.documents (purge_next_at) WHERE purge_next_at IS NOT NULL`);
    // Idempotency-Key claims are leases held by one request (its token), extended while it lives.
    await q.query(`ALTER TABLE intake.idempotency_keys ADD COLUMN lock_token uuid`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE intake.idempotency_keys DROP COLUMN lock_token`);
    await q.query(`DROP INDEX intake.documents_purge_next_idx`);
    await q.query(`ALTER TABLE intake.documents DROP COLUMN purge_error_code, DROP COLUMN purge_next_at, DROP COLUMN purge_attempts`);
  }
}
