import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signed receipts and the case workflow (ADR 0019): the receipt stored with its document
 * (and which key signed it, so that a retired key stays published while it is needed), the
 * encryption kid of the payload, the decisions (accept, reject, forward) and a history of
 * every step. Idempotency-Keys get a scope: a citizen's uploads and an official's forwards
 * never share a key space.
 */
export class CaseWorkflow1764300000000 implements MigrationInterface {
  name = 'CaseWorkflow1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE intake.documents
        ADD COLUMN payload_kid text,
        ADD COLUMN receipt text,
        ADD COLUMN receipt_kid text,
        ADD COLUMN forwarded_from uuid,
        ADD COLUMN forwarded_to uuid,
        ADD COLUMN reject_reason text,
        ADD COLUMN reject_note text`);
    // the JWKS publishes a retired key while a document signed with it exists
    await q.query(`CREATE INDEX documents_receipt_kid_idx ON intake.documents (receipt_kid) WHERE receipt_kid IS NOT NULL`);
    await q.query(`
      CREATE TABLE intake.document_history (
        id uuid PRIMARY KEY,
        document_id uuid NOT NULL REFERENCES intake.documents (id) ON DELETE CASCADE,
        state text NOT NULL,
        actor_role text NOT NULL,
        reason_code text,
        at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX document_history_document_at_idx ON intake.document_history (document_id, at, id)`);
    // what is known of the documents stored before: their upload, and the status they reached
    await q.query(`
      INSERT INTO intake.document_history (id, document_id, state, actor_role, at)
      SELECT gen_random_uuid(), id, 'RECEIVED', 'citizen', created_at FROM intake.documents`);
    await q.query(`
      INSERT INTO intake.document_history (id, document_id, state, actor_role, at)
      SELECT gen_random_uuid(), id, status, CASE status WHEN 'ASSIGNED' THEN 'official' ELSE 'system' END, updated_at
        FROM intake.documents WHERE status <> 'RECEIVED'`);
    await q.query(`ALTER TABLE intake.idempotency_keys ADD COLUMN scope text NOT NULL DEFAULT 'upload'`);
    await q.query(`ALTER TABLE intake.idempotency_keys DROP CONSTRAINT idempotency_keys_pkey`);
    await q.query(`ALTER TABLE intake.idempotency_keys ADD PRIMARY KEY (scope, citizen_id, key)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM intake.idempotency_keys WHERE scope <> 'upload'`);
    await q.query(`ALTER TABLE intake.idempotency_keys DROP CONSTRAINT idempotency_keys_pkey`);
    await q.query(`ALTER TABLE intake.idempotency_keys ADD PRIMARY KEY (citizen_id, key)`);
    await q.query(`ALTER TABLE intake.idempotency_keys DROP COLUMN scope`);
    await q.query(`DROP TABLE intake.document_history`);
    await q.query(`DROP INDEX intake.documents_receipt_kid_idx`);
    await q.query(`
      ALTER TABLE intake.documents
        DROP COLUMN reject_note, DROP COLUMN reject_reason, DROP COLUMN forwarded_to, DROP COLUMN forwarded_from,
        DROP COLUMN receipt_kid, DROP COLUMN receipt, DROP COLUMN payload_kid`);
  }
}
