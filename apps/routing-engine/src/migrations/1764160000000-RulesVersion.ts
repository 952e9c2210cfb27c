import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A per-authority rules version, bumped in the same transaction as every rule change.
 * Cached rule sets are keyed by it, so no replica can ever serve rules older than the
 * committed ones (no invalidation race).
 */
export class RulesVersion1764160000000 implements MigrationInterface {
  name = 'RulesVersion1764160000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE routing.authorities ADD COLUMN rules_version integer NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE routing.authorities DROP COLUMN rules_version`);
  }
}
