import { MigrationInterface, QueryRunner } from 'typeorm';
import { deadLetterTablesSql } from '@dvd/platform';

/** Events this service gave up on (ADR 0009), and outbox backoff and replay columns. */
export class RoutingDeadLetters1764180900000 implements MigrationInterface {
  name = 'RoutingDeadLetters1764180900000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of deadLetterTablesSql('routing')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE routing.dead_letters`);
    await q.query(`ALTER TABLE routing.outbox DROP COLUMN target_queue, DROP COLUMN attempts, DROP COLUMN next_attempt_at`);
  }
}
