import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Re-routing and escalation (issue 15, ADR 0020):
 * - `authorities.claim_deadline`: how long a routed document may wait for a claim or a decision;
 * - `routing_decisions.revision`: rises with every new decision for a document, carried in
 *   `document.routed` so that consumers never let a late event restore an older unit;
 * - `routing_decisions.facts`: what the rules look at (document type, service and region
 *   key, Aktenzeichen), kept only while the document is UNROUTABLE so that it can be routed
 *   again when its authority gains a unit or a rule, and cleared once it is routed (and
 *   deleted with the row when the document is purged). Rows from before have none: such a
 *   document is re-routed by hand (`POST /documents/{id}/reroute`, where intake sends them).
 */
export class ReroutingAndClaimDeadline1764400000000 implements MigrationInterface {
  name = 'ReroutingAndClaimDeadline1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE routing.authorities ADD COLUMN claim_deadline text NOT NULL DEFAULT 'P3D'`);
    await q.query(`ALTER TABLE routing.routing_decisions ADD COLUMN revision integer NOT NULL DEFAULT 1, ADD COLUMN facts jsonb`);
    await q.query(
      `CREATE INDEX routing_decisions_unroutable_authority_idx ON routing.routing_decisions (authority_id, decided_at, document_id)
        WHERE outcome = 'UNROUTABLE'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX routing.routing_decisions_unroutable_authority_idx`);
    await q.query(`ALTER TABLE routing.routing_decisions DROP COLUMN facts, DROP COLUMN revision`);
    await q.query(`ALTER TABLE routing.authorities DROP COLUMN claim_deadline`);
  }
}
