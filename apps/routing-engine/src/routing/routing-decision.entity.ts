import { Column, Entity, PrimaryColumn } from 'typeorm';

export type RoutingOutcomeKind = 'ROUTED' | 'UNROUTABLE';
export type UnroutableReason = 'unknown-authority' | 'no-unit';

@Entity({ name: 'routing_decisions' })
export class RoutingDecisionEntity {
  @PrimaryColumn('uuid', { name: 'document_id' }) documentId!: string;
  @Column('text', { name: 'authority_id' }) authorityId!: string;
  @Column('text') outcome!: RoutingOutcomeKind;
  @Column('uuid', { name: 'rule_id', nullable: true }) ruleId!: string | null;
  @Column('text', { name: 'unit_id', nullable: true }) unitId!: string | null;
  @Column('text', { nullable: true }) reason!: UnroutableReason | null;
  @Column('timestamptz', { name: 'decided_at' }) decidedAt!: Date;
}
