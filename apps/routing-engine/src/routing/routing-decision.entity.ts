import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ROUTING_OUTCOMES, UNROUTABLE_REASONS } from '@dvd/contracts';
import type { DocumentFacts } from '../rules/rule-evaluation';

export type RoutingOutcomeKind = (typeof ROUTING_OUTCOMES)[number];
export type UnroutableReason = (typeof UNROUTABLE_REASONS)[number];

@Entity({ name: 'routing_decisions' })
export class RoutingDecisionEntity {
  @PrimaryColumn('uuid', { name: 'document_id' }) documentId!: string;
  @Column('text', { name: 'authority_id' }) authorityId!: string;
  @Column('text') outcome!: RoutingOutcomeKind;
  @Column('uuid', { name: 'rule_id', nullable: true }) ruleId!: string | null;
  @Column('text', { name: 'unit_id', nullable: true }) unitId!: string | null;
  @Column('text', { nullable: true }) reason!: UnroutableReason | null;
  @Column('timestamptz', { name: 'decided_at' }) decidedAt!: Date;
  /** Rises with every new decision (re-routing); carried in document.routed. */
  @Column('integer') revision!: number;
  /** What the rules look at, kept only while UNROUTABLE (to route it again); the Aktenzeichen is in it: never logged. */
  @Column('jsonb', { nullable: true }) facts!: DocumentFacts | null;
}
