import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The unit of the job's document when the export was requested: export.completed and
 * export.failed carry it, so that the realtime stream can tell only that unit's officials
 * when they asked for one unit's events (ADR 0021). Jobs from before have none.
 */
export class ExportJobUnit1764500000000 implements MigrationInterface {
  name = 'ExportJobUnit1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE export.export_jobs ADD COLUMN unit_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE export.export_jobs DROP COLUMN unit_id`);
  }
}
