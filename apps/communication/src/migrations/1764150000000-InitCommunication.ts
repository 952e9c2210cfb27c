import { MigrationInterface, QueryRunner } from 'typeorm';
import { messagingTablesSql } from '@dvd/platform';

export class InitCommunication1764150000000 implements MigrationInterface {
  name = 'InitCommunication1764150000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of messagingTablesSql('communication')) await q.query(sql);
    // Read model of documents, fed by intake/routing events (never intake's tables).
    await q.query(`
      CREATE TABLE communication.known_documents (
        document_id uuid PRIMARY KEY,
        citizen_id text NOT NULL,
        authority_id text NOT NULL,
        unit_id text,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE communication.threads (
        id uuid PRIMARY KEY,
        document_id uuid NOT NULL,
        citizen_id text NOT NULL,
        authority_id text NOT NULL,
        type text NOT NULL,
        status text NOT NULL DEFAULT 'OPEN',
        assigned_official_id text,
        callback jsonb,
        appointment jsonb,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_activity_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX threads_authority_activity_idx ON communication.threads (authority_id, last_activity_at DESC, id DESC)`);
    await q.query(`CREATE INDEX threads_citizen_activity_idx ON communication.threads (citizen_id, last_activity_at DESC, id DESC)`);
    await q.query(`CREATE INDEX threads_document_idx ON communication.threads (document_id)`);
    await q.query(`
      CREATE TABLE communication.messages (
        id uuid PRIMARY KEY,
        thread_id uuid NOT NULL REFERENCES communication.threads(id) ON DELETE CASCADE,
        sender_id text NOT NULL,
        sender_role text NOT NULL,
        content_blob text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    // Message pages: newest first within a thread, keyset (created_at, id).
    await q.query(`CREATE INDEX messages_thread_created_idx ON communication.messages (thread_id, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['messages', 'threads', 'known_documents', 'processed_events', 'outbox'])
      await q.query(`DROP TABLE communication.${t}`);
  }
}
