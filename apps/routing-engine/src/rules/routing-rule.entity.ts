import { Column, Entity, PrimaryColumn } from 'typeorm';
import { RuleConditions } from './rule-evaluation';

@Entity({ name: 'routing_rules' })
export class RoutingRuleEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'authority_id' }) authorityId!: string;
  @Column('integer') priority!: number;
  @Column('jsonb') conditions!: RuleConditions;
  @Column('text', { name: 'target_unit_id' }) targetUnitId!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
