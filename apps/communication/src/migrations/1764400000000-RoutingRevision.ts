import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The revision of the routing decision a known document's unit comes from (ADR 0020): a
 * document.routed is applied only from a higher revision, so a late event never restores an
 * older unit after a re-routing. Units known before came from revision 1.
 */
export class CommunicationRoutingRevision1764400000000 implements MigrationInterface {
  name = 'CommunicationRoutingRevision1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE communication.known_documents ADD COLUMN routing_revision integer NOT NULL DEFAULT 0`);
    await q.query(`UPDATE communication.known_documents SET routing_revision = 1 WHERE unit_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE communication.known_documents DROP COLUMN routing_revision`);
  }
}
