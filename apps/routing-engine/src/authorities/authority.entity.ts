import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'authorities' })
export class AuthorityEntity {
  @PrimaryColumn('text') id!: string;
  @Column('text') name!: string;
  @Column('text', { name: 'ingest_url' }) ingestUrl!: string;
  @Column('text', { name: 'retention_period' }) retentionPeriod!: string;
  @Column('text', { name: 'claim_deadline' }) claimDeadline!: string;
  @Column('text', { name: 'default_unit_id', nullable: true }) defaultUnitId!: string | null;
  @Column('integer', { name: 'rules_version' }) rulesVersion!: number;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

@Entity({ name: 'units' })
export class UnitEntity {
  @PrimaryColumn('text', { name: 'authority_id' }) authorityId!: string;
  @PrimaryColumn('text') id!: string;
  @Column('text') name!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
}
