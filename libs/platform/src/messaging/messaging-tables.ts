import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** An event written in the same transaction as the state change; the relay publishes it. */
@Entity({ name: 'outbox' })
export class OutboxEntry {
  @PrimaryColumn('uuid') id!: string;
  @Column('text') type!: string;
  @Column('jsonb') data!: unknown;
  @Column('timestamptz', { name: 'occurred_at' }) occurredAt!: Date;
  @Column('text', { name: 'correlation_id' }) correlationId!: string;
  @Column('text', { name: 'causation_id', nullable: true }) causationId!: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @Column('text', { name: 'target_queue', nullable: true }) targetQueue!: string | null;
  @Column('integer', { default: 0 }) attempts!: number;
  @Column('timestamptz', { name: 'next_attempt_at', nullable: true }) nextAttemptAt!: Date | null;
  /** W3C traceparent of the request or event that wrote the row (ADR 0023); null with tracing off. */
  @Column('text', { nullable: true }) traceparent!: string | null;
}

/** Ids of events a consumer has applied: a redelivered event changes nothing. */
@Entity({ name: 'processed_events' })
export class ProcessedEvent {
  @PrimaryColumn('uuid', { name: 'event_id' }) eventId!: string;
  @Column('text', { name: 'event_type' }) eventType!: string;
  @CreateDateColumn({ type: 'timestamptz', name: 'processed_at' }) processedAt!: Date;
}

export const MESSAGING_ENTITIES = [OutboxEntry, ProcessedEvent];

/** DDL for the outbox and processed-events tables, for a service's first migration. */
export function messagingTablesSql(schema: string): string[] {
  const s = `"${schema}"`;
  return [
    `CREATE TABLE ${s}.outbox (
       id uuid PRIMARY KEY,
       type text NOT NULL,
       data jsonb NOT NULL,
       occurred_at timestamptz NOT NULL,
       correlation_id text NOT NULL,
       causation_id text,
       created_at timestamptz NOT NULL DEFAULT now()
     )`,
    `CREATE INDEX outbox_created_at_idx ON ${s}.outbox (created_at)`,
    `CREATE TABLE ${s}.processed_events (
       event_id uuid PRIMARY KEY,
       event_type text NOT NULL,
       processed_at timestamptz NOT NULL DEFAULT now()
     )`,
    `CREATE INDEX processed_events_processed_at_idx ON ${s}.processed_events (processed_at)`,
  ];
}
