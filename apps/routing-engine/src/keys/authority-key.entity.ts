import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Jwk } from '@dvd/contracts';

export type KeyStatus = 'ACTIVE' | 'RETIRED';

@Entity({ name: 'authority_keys' })
export class AuthorityKeyEntity {
  @PrimaryColumn('text', { name: 'authority_id' }) authorityId!: string;
  @PrimaryColumn('text') kid!: string;
  @Column('text') alg!: string;
  @Column('jsonb') jwk!: Jwk;
  @Column('text') status!: KeyStatus;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'retired_at', nullable: true }) retiredAt!: Date | null;
}
