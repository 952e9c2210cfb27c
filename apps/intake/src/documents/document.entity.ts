import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { DocumentStatus, Jwk } from '@dvd/contracts';

export type { DocumentStatus };
export const STATUS_RANK: Record<DocumentStatus, number> = { RECEIVED: 0, ROUTED: 1, ASSIGNED: 2, EXPORTED: 3 };

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
  @Column('integer') version!: number;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
