import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { DecisionStatus, DocumentRejectInput, DocumentStatus, Identity, RejectReason } from '@dvd/contracts';
import { ApiError, JweValidationError, Messaging, inspectJwe } from '@dvd/platform';
import { actorRoleOf, recordHistory } from './document-history';
import { emitStatusChanged } from './document-status';
import { DECIDED_RANK, DocumentEntity, STATUS_RANK } from './document.entity';
import { DocumentService } from './document.service';
import { ThreadHolders } from './thread-holders';

const documentNotFound = () => ApiError.notFound('document', 'document-not-found');

const VERB: Record<DecisionStatus, string> = { ACCEPTED: 'accepted', REJECTED: 'rejected', FORWARDED: 'forwarded' };

/** 409: the document's status does not allow this decision (docs/case-workflow.md). */
export function invalidTransition(from: DocumentStatus, to: DecisionStatus, detail?: string): ApiError {
  return ApiError.conflict('invalid-transition', detail ?? `The document is ${from}; it cannot be ${VERB[to]}`);
}

/** Whether a document's status still allows a decision: any progress status, no decision yet. */
export function isUndecided(status: DocumentStatus): boolean {
  return STATUS_RANK[status] < DECIDED_RANK;
}

/** The document, locked for the rest of the transaction; purged meanwhile → 404. */
export async function lockDocument(manager: EntityManager, id: string): Promise<DocumentEntity> {
  const doc = await manager.getRepository(DocumentEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  if (!doc) throw documentNotFound();
  return doc;
}

/**
 * The authority's decisions on a document (ADR 0019): accept and reject here, forward in
 * ForwardService. Who may decide: an official of the document's authority who holds a thread
 * of it (communication is asked), or an admin of that authority; anyone else gets 404, as for
 * a document they cannot see. A decision is final: repeating it answers the document as it
 * is, any other decision afterwards is 409 `invalid-transition`. Each one is recorded in the
 * history and published as an event in the same transaction.
 */
@Injectable()
export class DocumentDecisions {
  private readonly logger = new Logger(DocumentDecisions.name);

  constructor(
    private readonly messaging: Messaging,
    private readonly documents: DocumentService,
    private readonly holders: ThreadHolders,
  ) {}

  /** The document if the caller may decide on it; 404 otherwise. */
  async decidable(id: string, who: Identity): Promise<DocumentEntity> {
    const doc = await this.documents.getVisible(id, who);
    if (who.role === 'admin' || who.role === 'platform-admin') return doc; // of its own authority (visible)
    if (who.role === 'official' && (await this.holders.holds(doc.id, who.userId, who.requestId))) return doc;
    throw documentNotFound();
  }

  async accept(id: string, who: Identity): Promise<DocumentEntity> {
    await this.decidable(id, who);
    return this.decide(id, who, 'ACCEPTED');
  }

  async reject(id: string, who: Identity, input: DocumentRejectInput): Promise<DocumentEntity> {
    await this.decidable(id, who);
    if (input.note !== undefined) {
      try {
        await inspectJwe(input.note); // structure only, any kid: it is encrypted for the citizen
      } catch (err) {
        if (!(err instanceof JweValidationError)) throw err;
        throw ApiError.unprocessable(err.rule, err.detail, [{ field: 'note', message: err.detail }]);
      }
    }
    return this.decide(id, who, 'REJECTED', input.reasonCode, input.note ?? null);
  }

  private decide(
    id: string,
    who: Identity,
    status: 'ACCEPTED' | 'REJECTED',
    reasonCode: RejectReason | null = null,
    note: string | null = null,
  ): Promise<DocumentEntity> {
    return this.messaging.transaction(
      async (manager, emit) => {
        const doc = await lockDocument(manager, id);
        if (doc.status === status) {
          // the same decision again: the document as it is (the first note stays)
          if (status === 'REJECTED' && doc.rejectReason !== reasonCode) {
            throw invalidTransition(doc.status, status, 'The document was rejected with another reasonCode');
          }
          return doc;
        }
        if (!isUndecided(doc.status)) throw invalidTransition(doc.status, status);
        await manager.query(
          `UPDATE documents SET status = $2, status_rank = $3, reject_reason = $4, reject_note = $5, version = version + 1, updated_at = now()
            WHERE id = $1`,
          [id, status, DECIDED_RANK, reasonCode, note],
        );
        const actorRole = actorRoleOf(who);
        await recordHistory(manager, id, status, actorRole, reasonCode);
        if (status === 'ACCEPTED') await emit('document.accepted', { documentId: id, authorityId: doc.authorityId, actorRole });
        else await emit('document.rejected', { documentId: id, authorityId: doc.authorityId, reasonCode: reasonCode!, actorRole });
        await emitStatusChanged(manager, emit, id);
        this.logger.log({ documentId: id, authorityId: doc.authorityId, status, actorRole }, 'document decided');
        return manager.getRepository(DocumentEntity).findOneByOrFail({ id });
      },
      { correlationId: id },
    );
  }
}
