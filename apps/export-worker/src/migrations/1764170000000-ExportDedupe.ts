import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * At most one PENDING/RUNNING job per document, enforced by a partial unique index so that
 * concurrent POST /exports cannot race past the check (ADR 0007). Active duplicates from
 * before are failed first (the oldest one stays), or the index could not be built.
 * `last_error_category`: why the last attempt failed, from a fixed vocabulary.
 */
export class ExportDedupe1764170000000 implements MigrationInterface {
  name = 'ExportDedupe1764170000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE export.export_jobs ADD COLUMN last_error_category text`);
    await q.query(`
      UPDATE export.export_jobs j
         SET status = 'FAILED', completed_at = now(), locked_until = NULL,
             last_error = 'a duplicate of an earlier export job of the document', last_error_category = 'duplicate'
       WHERE j.status IN ('PENDING', 'RUNNING')
         AND EXISTS (SELECT 1 FROM export.export_jobs e
                      WHERE e.document_id = j.document_id AND e.status IN ('PENDING', 'RUNNING')
                        AND (e.created_at, e.id) < (j.created_at, j.id))`);
    await q.query(
      `CREATE UNIQUE INDEX export_jobs_one_active_per_document ON export.export_jobs (document_id) WHERE status IN ('PENDING', 'RUNNING')`,
    );
    // the cool-down looks up a document's latest completed job
    await q.query(
      `CREATE INDEX export_jobs_document_completed_idx ON export.export_jobs (document_id, completed_at DESC) WHERE status = 'COMPLETED'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX export.export_jobs_document_completed_idx`);
    await q.query(`DROP INDEX export.export_jobs_one_active_per_document`);
    await q.query(`ALTER TABLE export.export_jobs DROP COLUMN last_error_category`);
  }
}
