import { MigrationInterface, QueryRunner } from 'typeorm';

export class ExportLeases1764160000000 implements MigrationInterface {
  name = 'ExportLeases1764160000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE export.export_jobs ADD COLUMN last_attempt_at timestamptz`);
    await q.query(`ALTER TABLE export.export_jobs ADD COLUMN package_sha256 text`);
    await q.query(`ALTER TABLE export.export_jobs ADD COLUMN package_size bigint`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const c of ['last_attempt_at', 'package_sha256', 'package_size']) await q.query(`ALTER TABLE export.export_jobs DROP COLUMN ${c}`);
  }
}
