import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { DocumentStatus, Jwk, RejectReason } from '@dvd/contracts';

export type { DocumentStatus };
/**
 * Progress only grows (a late event never lowers it); a decision (rank 10) is final: no event
 * moves a decided document's status again (docs/case-workflow.md).
 */
export const DECIDED_RANK = 10;
export const STATUS_RANK: Record<DocumentStatus, number> = {
  RECEIVED: 0,
  ROUTED: 1,
  ASSIGNED: 2,
  EXPORTED: 3,
  ACCEPTED: DECIDED_RANK,
  REJECTED: DECIDED_RANK,
  FORWARDED: DECIDED_RANK,
};

@Entity({ name: 'documents' })
export class DocumentEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'citizen_id' }) citizenId!: string;
  @Column('text', { name: 'authority_id' }) authorityId!: string;
  @Column('text', { name: 'reference_number' }) referenceNumber!: string;
  @Column('text', { name: 'document_type' }) documentType!: string;
  @Column('text', { name: 'service_key', nullable: true }) serviceKey!: string | null;
  @Column('text', { name: 'region_key', nullable: true }) regionKey!: string | null;
  @Column('jsonb', { name: 'reply_key', nullable: true }) replyKey!: Jwk | null;
  @Column('text', { name: 'unit_id', nullable: true }) unitId!: string | null;
  @Column('text') status!: DocumentStatus;
  @Column('smallint', { name: 'status_rank' }) statusRank!: number;
  @Column('text', { name: 'payload_key' }) payloadKey!: string;
  @Column('bigint', { name: 'payload_size' }) payloadSize!: string;
  @Column('text', { name: 'payload_sha256' }) payloadSha256!: string;
  @Column('text', { name: 'payload_format' }) payloadFormat!: 'compact' | 'json';
  @Column('timestamptz', { name: 'retention_date' }) retentionDate!: Date;
  /** The revision of the routing decision `unitId` comes from (document.routed applies only a higher one). */
  @Column('integer', { name: 'routing_revision' }) routingRevision!: number;
  /** Routing time + the authority's claimDeadline; null until routed. */
  @Column('timestamptz', { name: 'overdue_at', nullable: true }) overdueAt!: Date | null;
  /** When the sweep reported the document overdue (once); see `isOverdue`. */
  @Column('timestamptz', { name: 'overdue_since', nullable: true }) overdueSince!: Date | null;
  /** The authority key the payload was encrypted for (from the JWE header); null before receipts existed. */
  @Column('text', { name: 'payload_kid', nullable: true }) payloadKid!: string | null;
  /** The signed receipt (compact JWS) exactly as the upload answered it, and the kid that signed it. */
  @Column('text', { nullable: true }) receipt!: string | null;
  @Column('text', { name: 'receipt_kid', nullable: true }) receiptKid!: string | null;
  @Column('uuid', { name: 'forwarded_from', nullable: true }) forwardedFrom!: string | null;
  @Column('uuid', { name: 'forwarded_to', nullable: true }) forwardedTo!: string | null;
  @Column('text', { name: 'reject_reason', nullable: true }) rejectReason!: RejectReason | null;
  /** A JWE for the citizen; never readable here. */
  @Column('text', { name: 'reject_note', nullable: true }) rejectNote!: string | null;
  @Column('integer') version!: number;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
