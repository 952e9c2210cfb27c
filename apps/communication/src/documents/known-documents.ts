import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ApiError, InternalClient } from '@dvd/platform';

export interface KnownDocument {
  documentId: string;
  citizenId: string;
  authorityId: string;
  unitId: string | null;
  /** The revision of the routing decision `unitId` comes from (0: not routed). */
  routingRevision: number;
}

export const INTAKE_CLIENT = Symbol('INTAKE_CLIENT');

/**
 * Communication's read model of documents (owner, authority, unit), fed by intake's and
 * routing-engine's events (`*-on-document-*.consumer.ts` next to this file). A thread may be opened right after the upload's 201, before
 * the event arrived: then intake's internal API is asked once and the answer kept.
 */
@Injectable()
export class KnownDocuments {
  private readonly logger = new Logger(KnownDocuments.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly intake: InternalClient,
  ) {}

  /** Keeps a document's owner and authority, and its unit if it comes from a newer routing decision than the one known. */
  async remember(manager: EntityManager, doc: KnownDocument) {
    await manager.query(
      `INSERT INTO known_documents (document_id, citizen_id, authority_id, unit_id, routing_revision) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (document_id) DO UPDATE SET
         unit_id = CASE WHEN EXCLUDED.routing_revision > known_documents.routing_revision THEN EXCLUDED.unit_id
                        ELSE known_documents.unit_id END,
         routing_revision = GREATEST(EXCLUDED.routing_revision, known_documents.routing_revision)`,
      [doc.documentId, doc.citizenId, doc.authorityId, doc.unitId, doc.unitId === null ? 0 : doc.routingRevision],
    );
  }

  async find(documentId: string, requestId?: string): Promise<KnownDocument | null> {
    const rows: Array<{ document_id: string; citizen_id: string; authority_id: string; unit_id: string | null; routing_revision: number }> =
      await this.db.query(
        `SELECT document_id, citizen_id, authority_id, unit_id, routing_revision FROM known_documents WHERE document_id = $1`,
        [documentId],
      );
    if (rows[0])
      return {
        documentId: rows[0].document_id,
        citizenId: rows[0].citizen_id,
        authorityId: rows[0].authority_id,
        unitId: rows[0].unit_id,
        routingRevision: rows[0].routing_revision,
      };
    let fromIntake: { id: string; citizenId: string; authorityId: string; unitId: string | null; routingRevision?: number } | null;
    try {
      fromIntake = await this.intake.getJson(`/internal/documents/${documentId}`, requestId);
    } catch (err) {
      this.logger.warn({ documentId, errorName: (err as Error).name }, 'intake not reachable for an unknown document');
      throw ApiError.unavailable('The document is not known here yet and intake did not answer; retry shortly');
    }
    if (!fromIntake) return null;
    const doc: KnownDocument = {
      documentId: fromIntake.id,
      citizenId: fromIntake.citizenId,
      authorityId: fromIntake.authorityId,
      unitId: fromIntake.unitId,
      // an intake from before re-routing sends no revision: its unit came from the first decision
      routingRevision: fromIntake.routingRevision ?? (fromIntake.unitId === null ? 0 : 1),
    };
    await this.remember(this.db.manager, doc);
    return doc;
  }
}
