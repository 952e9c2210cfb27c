import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Re-routing and escalation (issue 15, ADR 0020):
 * - `routing_revision`: the revision of the routing decision the unit came from; a
 *   document.routed is applied only from a higher revision (a late event never restores an
 *   older unit). Documents routed before carry revision 1, as their events did.
 * - `overdue_at`: when a routed document becomes overdue (routing time + the authority's
 *   claimDeadline); `overdue_since`: when the sweep reported it (document.overdue), which
 *   happens once. Documents routed before this change get the default deadline (P3D, the
 *   deadline every existing authority has) from their last change.
 */
export class RoutingRevisionAndOverdue1764400000000 implements MigrationInterface {
  name = 'RoutingRevisionAndOverdue1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE intake.documents
        ADD COLUMN routing_revision integer NOT NULL DEFAULT 0,
        ADD COLUMN overdue_at timestamptz,
        ADD COLUMN overdue_since timestamptz`);
    await q.query(`UPDATE intake.documents SET routing_revision = 1 WHERE unit_id IS NOT NULL`);
    await q.query(`UPDATE intake.documents SET overdue_at = updated_at + interval '3 days' WHERE status = 'ROUTED'`);
    // the sweep's scan: routed documents not yet reported, by deadline
    await q.query(
      `CREATE INDEX documents_overdue_due_idx ON intake.documents (overdue_at) WHERE overdue_since IS NULL AND status = 'ROUTED'`,
    );
    // the gauge and ?overdue=true: documents reported and still waiting
    await q.query(
      `CREATE INDEX documents_overdue_idx ON intake.documents (authority_id, created_at DESC, id DESC)
        WHERE overdue_since IS NOT NULL AND status = 'ROUTED'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX intake.documents_overdue_idx`);
    await q.query(`DROP INDEX intake.documents_overdue_due_idx`);
    await q.query(`ALTER TABLE intake.documents DROP COLUMN overdue_since, DROP COLUMN overdue_at, DROP COLUMN routing_revision`);
  }
}
