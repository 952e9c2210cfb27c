import { MigrationInterface, QueryRunner } from 'typeorm';
import { outboxTraceContextSql } from '@dvd/platform';

/** The trace context of each outbox row, so that an event is published in the trace that caused it (ADR 0023). */
export class ExportOutboxTraceContext1764600000000 implements MigrationInterface {
  name = 'ExportOutboxTraceContext1764600000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of outboxTraceContextSql('export')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE export.outbox DROP COLUMN traceparent`);
  }
}
