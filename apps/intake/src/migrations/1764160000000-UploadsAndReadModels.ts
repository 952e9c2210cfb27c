import { MigrationInterface, QueryRunner } from 'typeorm';

export class UploadsAndReadModels1764160000000 implements MigrationInterface {
  name = 'UploadsAndReadModels1764160000000';

  async up(q: QueryRunner): Promise<void> {
    // What intake knows of authorities, from routing-engine's authority.changed events.
    await q.query(`
      CREATE TABLE intake.authorities (
        id text PRIMARY KEY,
        retention_period text NOT NULL,
        active_key_ids text[] NOT NULL DEFAULT '{}',
        deleted boolean NOT NULL DEFAULT false,
        changed_at timestamptz NOT NULL
      )`);
    // Idempotency-Key records, per citizen, kept 24 h (IETF draft semantics).
    await q.query(`
      CREATE TABLE intake.idempotency_keys (
        citizen_id text NOT NULL,
        key text NOT NULL,
        status text NOT NULL,
        fingerprint text,
        response jsonb,
        document_id uuid,
        locked_until timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (citizen_id, key)
      )`);
    await q.query(`CREATE INDEX idempotency_keys_expires_idx ON intake.idempotency_keys (expires_at)`);
    await q.query(`CREATE INDEX idempotency_keys_document_idx ON intake.idempotency_keys (document_id)`);
    // Objects being uploaded: a crash between the upload and the commit leaves a row here,
    // and the sweeper deletes the orphaned object.
    await q.query(`
      CREATE TABLE intake.pending_objects (
        object_key text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`ALTER TABLE intake.documents ADD COLUMN payload_format text NOT NULL DEFAULT 'compact'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE intake.documents DROP COLUMN payload_format`);
    await q.query(`DROP TABLE intake.pending_objects`);
    await q.query(`DROP TABLE intake.idempotency_keys`);
    await q.query(`DROP TABLE intake.authorities`);
  }
}
