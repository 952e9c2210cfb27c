import { MigrationInterface, QueryRunner } from 'typeorm';
import { messagingTablesSql } from '@dvd/platform';

export class InitRouting1764150000000 implements MigrationInterface {
  name = 'InitRouting1764150000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of messagingTablesSql('routing')) await q.query(sql);
    await q.query(`
      CREATE TABLE routing.authorities (
        id text PRIMARY KEY,
        name text NOT NULL,
        ingest_url text NOT NULL,
        ingest_secret text NOT NULL,
        retention_period text NOT NULL,
        default_unit_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE routing.units (
        authority_id text NOT NULL REFERENCES routing.authorities(id) ON DELETE CASCADE,
        id text NOT NULL,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (authority_id, id)
      )`);
    await q.query(`
      CREATE TABLE routing.authority_keys (
        authority_id text NOT NULL REFERENCES routing.authorities(id) ON DELETE CASCADE,
        kid text NOT NULL,
        alg text NOT NULL,
        jwk jsonb NOT NULL,
        status text NOT NULL DEFAULT 'ACTIVE',
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz,
        PRIMARY KEY (authority_id, kid)
      )`);
    await q.query(`
      CREATE TABLE routing.routing_rules (
        id uuid PRIMARY KEY,
        authority_id text NOT NULL REFERENCES routing.authorities(id) ON DELETE CASCADE,
        priority integer NOT NULL,
        conditions jsonb NOT NULL,
        target_unit_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX routing_rules_order_idx ON routing.routing_rules (authority_id, priority, created_at, id)`);
    await q.query(`
      CREATE TABLE routing.routing_decisions (
        document_id uuid PRIMARY KEY,
        authority_id text NOT NULL,
        outcome text NOT NULL,
        rule_id uuid,
        unit_id text,
        reason text,
        decided_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX routing_decisions_unroutable_idx ON routing.routing_decisions (decided_at DESC, document_id) WHERE outcome = 'UNROUTABLE'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['routing_decisions', 'routing_rules', 'authority_keys', 'units', 'authorities', 'processed_events', 'outbox']) {
      await q.query(`DROP TABLE routing.${t}`);
    }
  }
}
