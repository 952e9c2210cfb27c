import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ExportErrorCategory, ExportJobView, ExportStatus } from '@dvd/contracts';

export type { ExportStatus };

@Entity({ name: 'export_jobs' })
export class ExportJobEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'document_id' }) documentId!: string;
  @Column('text', { name: 'authority_id' }) authorityId!: string;
  /** The document's unit when the export was requested (for the realtime stream's unit filter); null before. */
  @Column('text', { name: 'unit_id', nullable: true }) unitId!: string | null;
  @Column('text', { name: 'requested_by' }) requestedBy!: string;
  @Column('text') status!: ExportStatus;
  @Column('integer') attempts!: number;
  @Column('text', { name: 'last_error', nullable: true }) lastError!: string | null;
  @Column('text', { name: 'last_error_category', nullable: true }) lastErrorCategory!: ExportErrorCategory | null;
  /** The receiver's answer, kept only as a small JSON object (delivery/receipt.ts). */
  @Column('jsonb', { nullable: true }) receipt!: Record<string, unknown> | null;
  @Column('timestamptz', { name: 'next_attempt_at' }) nextAttemptAt!: Date;
  @Column('timestamptz', { name: 'locked_until', nullable: true }) lockedUntil!: Date | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'completed_at', nullable: true }) completedAt!: Date | null;
}

/** A job as the API answers it (the contract's `ExportJob`). */
export function toJobView(j: ExportJobEntity): ExportJobView {
  return {
    jobId: j.id,
    documentId: j.documentId,
    status: j.status,
    attempts: j.attempts,
    lastError: j.lastError,
    lastErrorCategory: j.lastErrorCategory,
    createdAt: j.createdAt.toISOString(),
    completedAt: j.completedAt?.toISOString() ?? null,
    receipt: j.receipt ?? null,
  };
}
