import { MigrationInterface, QueryRunner } from 'typeorm';
import { messagingTablesSql } from '@dvd/platform';

export class InitExport1764150000000 implements MigrationInterface {
  name = 'InitExport1764150000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of messagingTablesSql('export')) await q.query(sql);
    await q.query(`
      CREATE TABLE export.export_jobs (
        id uuid PRIMARY KEY,
        document_id uuid NOT NULL,
        authority_id text NOT NULL,
        requested_by text NOT NULL,
        status text NOT NULL DEFAULT 'PENDING',
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        receipt jsonb,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        locked_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz
      )`);
    await q.query(`CREATE INDEX export_jobs_document_idx ON export.export_jobs (document_id)`);
    await q.query(`CREATE INDEX export_jobs_due_idx ON export.export_jobs (next_attempt_at) WHERE status IN ('PENDING', 'RUNNING')`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['export_jobs', 'processed_events', 'outbox']) await q.query(`DROP TABLE export.${t}`);
  }
}
