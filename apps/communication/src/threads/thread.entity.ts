import { Column, Entity, PrimaryColumn } from 'typeorm';

export const THREAD_TYPES = ['CHAT', 'CALLBACK', 'APPOINTMENT'] as const;
export type ThreadType = (typeof THREAD_TYPES)[number];
export const THREAD_STATUSES = ['OPEN', 'CLOSED'] as const;
export type ThreadStatus = (typeof THREAD_STATUSES)[number];

export interface Slot {
  start: string;
  end: string;
}

@Entity({ name: 'threads' })
export class ThreadEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'document_id' }) documentId!: string;
  @Column('text', { name: 'citizen_id' }) citizenId!: string;
  @Column('text', { name: 'authority_id' }) authorityId!: string;
  @Column('text') type!: ThreadType;
  @Column('text') status!: ThreadStatus;
  @Column('text', { name: 'assigned_official_id', nullable: true }) assignedOfficialId!: string | null;
  @Column('jsonb', { nullable: true }) callback!: { preferredFrom: string; preferredTo: string } | null;
  @Column('jsonb', { nullable: true }) appointment!: { proposedSlots: Slot[]; confirmedSlot: Slot | null } | null;
  @Column('text', { name: 'created_by' }) createdBy!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'last_activity_at' }) lastActivityAt!: Date;
}
