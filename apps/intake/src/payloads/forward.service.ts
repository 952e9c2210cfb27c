import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import { DataSource } from 'typeorm';
import { DocumentForwardMetadata, DocumentForwardMetadataSchema, DocumentForwardedView, Identity } from '@dvd/contracts';
import { ApiError, Messaging, parseOrThrow, retentionDate } from '@dvd/platform';
import { AuthorityKeyDirectory } from '../authorities/authority-key-directory';
import { KnownAuthorities, KnownAuthority } from '../authorities/known-authority';
import { DocumentDecisions, invalidTransition, isUndecided, lockDocument } from '../documents/document-decisions';
import { actorRoleOf, recordHistory } from '../documents/document-history';
import { emitStatusChanged } from '../documents/document-status';
import { DECIDED_RANK, DocumentEntity } from '../documents/document.entity';
import { toDocumentView } from '../documents/document.view';
import { INTAKE_CONFIG } from '../intake-config.token';
import { IntakeConfig } from '../intake.config';
import { ReceiptSigner } from '../receipts/receipt-signer';
import { canonicalJson } from './canonical-json';
import { IdempotencyLease, IdempotencyService, StoredResponse } from './idempotency.service';
import { parseMetadataJson, receiveMultipart } from './multipart-upload';
import { PayloadStore, StoredPayload, bodyModeOf, hashPayloadStream } from './payload-store';
import { DocumentMetrics } from '../documents/document-metrics';

interface Target {
  meta: DocumentForwardMetadata;
  authority: KnownAuthority;
  activeKids: Set<string>;
}

type Forwarded = StoredResponse<DocumentForwardedView>;

/**
 * POST /documents/{id}/forward (ADR 0019). The official's client re-encrypted the payload for
 * the target authority; it arrives like an upload (multipart, `metadata` first) and is
 * streamed to S3, checked against the target's active keys on the way. Then, in one
 * transaction: the new document for the same citizen (`forwarded_from`), its receipt, the
 * original `FORWARDED` (`forwarded_to`), both history entries, `document.received` for the
 * new one (routing-engine routes it) and `document.forwarded`. Any refusal or failure
 * removes the object; nothing half-done remains. An Idempotency-Key (scope `forward`, per
 * official) makes a retry answer the first response.
 */
@Injectable()
export class ForwardService {
  private readonly logger = new Logger(ForwardService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly messaging: Messaging,
    private readonly payloads: PayloadStore,
    private readonly idempotency: IdempotencyService,
    private readonly keyDirectory: AuthorityKeyDirectory,
    private readonly authorities: KnownAuthorities,
    private readonly receipts: ReceiptSigner,
    private readonly decisions: DocumentDecisions,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
    private readonly metrics: DocumentMetrics,
  ) {}

  async forward(req: Request, who: Identity, id: string, idempotencyKeyHeader: string | undefined): Promise<Forwarded> {
    bodyModeOf(req, false);
    const key = IdempotencyService.validateKey(idempotencyKeyHeader);
    try {
      const original = await this.decisions.decidable(id, who);
      const claim = key ? await this.idempotency.claim<DocumentForwardedView>('forward', who.userId, key) : undefined;
      if (claim?.state === 'done') return await this.replay(req, original.id, claim.fingerprint, claim.response);
      const lease = claim?.lease;
      try {
        // refused before the payload is read (and checked again in the commit)
        if (!isUndecided(original.status)) throw invalidTransition(original.status, 'FORWARDED');
        return await this.store(req, who, original, lease);
      } catch (err) {
        if (lease) await this.idempotency.release(lease);
        throw err;
      } finally {
        lease?.stop();
      }
    } catch (err) {
      throw this.payloads.toApiError(err);
    }
  }

  private async target(raw: unknown, original: DocumentEntity): Promise<Target> {
    const meta = parseOrThrow(DocumentForwardMetadataSchema, raw, 'The metadata are invalid');
    this.payloads.refuseDeclaredTooLarge(meta.payloadSize);
    if (meta.targetAuthorityId === original.authorityId) {
      throw ApiError.unprocessable('same-authority', 'The document is already at this authority; forward it to another one', [
        { field: 'targetAuthorityId', message: "is the document's own authority" },
      ]);
    }
    const [authority, activeKids] = await Promise.all([
      this.authorities.find(meta.targetAuthorityId),
      this.keyDirectory.activeKids(meta.targetAuthorityId),
    ]);
    if (!authority || !activeKids) {
      throw ApiError.unprocessable('unknown-authority', 'No authority with this id is registered', [
        { field: 'targetAuthorityId', message: 'is not a registered authority' },
      ]);
    }
    return { meta, authority, activeKids };
  }

  private async store(req: Request, who: Identity, original: DocumentEntity, lease: IdempotencyLease | undefined): Promise<Forwarded> {
    const newId = randomUUID();
    const objectKey = `documents/${newId}`;
    let objectWritten = false;
    try {
      const { target, stored } = await receiveMultipart(req, this.config.MAX_UPLOAD_BYTES, {
        onMetadata: (text) => this.target(parseMetadataJson(text), original),
        onPayload: async (stream, t: Target) => ({
          target: t,
          stored: await this.payloads.write(objectKey, stream, t.activeKids, () => (objectWritten = true), t.meta.payloadSize),
        }),
      });
      return await this.commit(who, original.id, newId, objectKey, target, stored, lease);
    } catch (err) {
      if (objectWritten) await this.payloads.remove(objectKey);
      throw err;
    }
  }

  private async commit(
    who: Identity,
    originalId: string,
    newId: string,
    objectKey: string,
    { meta, authority }: Target,
    stored: StoredPayload,
    lease: IdempotencyLease | undefined,
  ): Promise<Forwarded> {
    const createdAt = new Date();
    const actorRole = actorRoleOf(who);
    const fingerprint = this.fingerprint(originalId, meta, stored.sha256);
    return this.messaging.transaction(
      async (manager, emit) => {
        const doc = await lockDocument(manager, originalId);
        if (!isUndecided(doc.status)) throw invalidTransition(doc.status, 'FORWARDED');
        const receipt = this.receipts.sign({
          documentId: newId,
          authorityId: authority.id,
          documentType: doc.documentType,
          size: stored.size,
          sha256: stored.sha256,
          payloadKid: stored.kid,
          createdAt,
        });
        // the same citizen, metadata and reply key; the new authority's retention
        await manager.query(
          `INSERT INTO documents (id, citizen_id, authority_id, reference_number, document_type, service_key, region_key, reply_key,
             payload_key, payload_size, payload_sha256, payload_format, retention_date, created_at, updated_at,
             payload_kid, receipt, receipt_kid, forwarded_from)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16, $17, $18)`,
          [
            newId,
            doc.citizenId,
            authority.id,
            doc.referenceNumber,
            doc.documentType,
            doc.serviceKey,
            doc.regionKey,
            doc.replyKey ? JSON.stringify(doc.replyKey) : null,
            objectKey,
            stored.size,
            stored.sha256,
            stored.format,
            retentionDate(createdAt, authority.retentionPeriod),
            createdAt,
            stored.kid,
            receipt.jws,
            receipt.kid,
            doc.id,
          ],
        );
        await this.payloads.release(manager, objectKey);
        await manager.query(
          `UPDATE documents SET status = 'FORWARDED', status_rank = $2, forwarded_to = $3, version = version + 1, updated_at = now()
            WHERE id = $1`,
          [doc.id, DECIDED_RANK, newId],
        );
        await recordHistory(manager, doc.id, 'FORWARDED', actorRole);
        await recordHistory(manager, newId, 'RECEIVED', actorRole);
        this.metrics.receivedIn(manager);
        await emit('document.received', {
          documentId: newId,
          citizenId: doc.citizenId,
          authorityId: authority.id,
          documentType: doc.documentType,
          serviceKey: doc.serviceKey,
          regionKey: doc.regionKey,
          referenceNumber: doc.referenceNumber,
          createdAt: createdAt.toISOString(),
        });
        await emit('document.forwarded', {
          documentId: doc.id,
          authorityId: doc.authorityId,
          forwardedToDocumentId: newId,
          targetAuthorityId: authority.id,
          actorRole,
        });
        await emitStatusChanged(manager, emit, doc.id);
        await emitStatusChanged(manager, emit, newId);
        const updated = await manager.getRepository(DocumentEntity).findOneByOrFail({ id: doc.id });
        const response: Forwarded = {
          status: 200,
          body: {
            document: toDocumentView(updated, who),
            forwarded: {
              id: newId,
              authorityId: authority.id,
              payload: { size: stored.size, sha256: stored.sha256 },
              receipt: receipt.jws,
            },
          },
        };
        if (lease) await this.idempotency.complete(manager, lease, fingerprint, doc.id, response);
        this.logger.log(
          { documentId: doc.id, authorityId: doc.authorityId, forwardedTo: newId, targetAuthorityId: authority.id, size: stored.size },
          'document forwarded',
        );
        return response;
      },
      { correlationId: originalId },
    );
  }

  /** What an Idempotency-Key compares: the target and the payload's hash (which covers its declared size). */
  private fingerprint(originalId: string, meta: DocumentForwardMetadata, payloadSha256: string): string {
    const { payloadSize: _size, ...target } = meta;
    return createHash('sha256')
      .update(canonicalJson({ forward: originalId, meta: target }))
      .update('\n')
      .update(payloadSha256)
      .digest('hex');
  }

  /** The same key again: hash what was sent (storing nothing) and answer the first response, or 422. */
  private async replay(req: Request, originalId: string, fingerprint: string, response: Forwarded): Promise<Forwarded> {
    const { meta, sha } = await receiveMultipart(req, this.config.MAX_UPLOAD_BYTES, {
      onMetadata: async (text) => parseOrThrow(DocumentForwardMetadataSchema, parseMetadataJson(text), 'The metadata are invalid'),
      onPayload: async (stream, m) => ({ meta: m, sha: await hashPayloadStream(stream) }),
    });
    if (this.fingerprint(originalId, meta, sha) !== fingerprint) {
      throw ApiError.unprocessable('idempotency-key-reused', 'This Idempotency-Key was used for a different request');
    }
    return response;
  }
}
