import { MigrationInterface, QueryRunner } from 'typeorm';
import { messagingTablesSql } from '@dvd/platform';

export class InitIntake1764150000000 implements MigrationInterface {
  name = 'InitIntake1764150000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of messagingTablesSql('intake')) await q.query(sql);
    await q.query(`
      CREATE TABLE intake.documents (
        id uuid PRIMARY KEY,
        citizen_id text NOT NULL,
        authority_id text NOT NULL,
        reference_number text NOT NULL,
        document_type text NOT NULL,
        service_key text,
        region_key text,
        reply_key jsonb,
        unit_id text,
        status text NOT NULL DEFAULT 'RECEIVED',
        -- RECEIVED 0 < ROUTED 1 < ASSIGNED 2 < EXPORTED 3: a late event never lowers it
        status_rank smallint NOT NULL DEFAULT 0,
        payload_key text NOT NULL,
        payload_size bigint NOT NULL,
        payload_sha256 text NOT NULL,
        retention_date timestamptz NOT NULL,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Lists are newest first per citizen or per authority, keyset-paged on (created_at, id).
    await q.query(`CREATE INDEX documents_citizen_created_idx ON intake.documents (citizen_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX documents_authority_created_idx ON intake.documents (authority_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX documents_retention_idx ON intake.documents (retention_date)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE intake.documents`);
    await q.query(`DROP TABLE intake.processed_events`);
    await q.query(`DROP TABLE intake.outbox`);
  }
}
