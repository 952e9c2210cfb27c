import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ingest secrets move to their own table: up to two active secrets per authority (the
 * current one and, during a rotation, the previous one until `expires_at`), each stored
 * as an AES-256-GCM envelope (`v1.<kid>.…`, see SecretBox). Migrations run without the
 * encryption key (`main.js migrate` needs only DATABASE_URL), so existing plaintext
 * secrets are copied as they are and sealed by routing-engine at its next start
 * (IngestSecretSealer), before it serves requests; until then they are never handed out.
 */
export class IngestSecrets1764212000000 implements MigrationInterface {
  name = 'IngestSecrets1764212000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE routing.ingest_secrets (
        id uuid PRIMARY KEY,
        authority_id text NOT NULL REFERENCES routing.authorities(id) ON DELETE CASCADE,
        sealed_secret text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        expires_at timestamptz
      )`);
    await q.query(`CREATE INDEX ingest_secrets_authority_idx ON routing.ingest_secrets (authority_id, created_at DESC)`);
    await q.query(
      `INSERT INTO routing.ingest_secrets (id, authority_id, sealed_secret, created_at)
       SELECT gen_random_uuid(), id, ingest_secret, updated_at FROM routing.authorities`,
    );
    await q.query(`ALTER TABLE routing.authorities DROP COLUMN ingest_secret`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Sealed values cannot be opened here (no key): a rollback needs new secrets set via the API.
    await q.query(`ALTER TABLE routing.authorities ADD COLUMN ingest_secret text NOT NULL DEFAULT ''`);
    await q.query(`DROP TABLE routing.ingest_secrets`);
  }
}
