import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { DocumentCreateJsonSchema, DocumentCreatedView, DocumentMetadata, DocumentMetadataSchema, Identity, Jwk } from '@dvd/contracts';
import { ApiError, KeyValidationError, Messaging, parseOrThrow, retentionDate, validatePublicEncryptionJwk } from '@dvd/platform';
import { AuthorityKeyDirectory } from '../authorities/authority-key-directory';
import { KnownAuthorities, KnownAuthority } from '../authorities/known-authority';
import { DocumentEntity } from '../documents/document.entity';
import { toDocumentView } from '../documents/document.view';
import { INTAKE_CONFIG } from '../intake-config.token';
import { IntakeConfig } from '../intake.config';
import { ReceiptSigner } from '../receipts/receipt-signer';
import { canonicalJson } from './canonical-json';
import { IdempotencyLease, IdempotencyService, StoredResponse } from './idempotency.service';
import { parseMetadataJson, receiveMultipart } from './multipart-upload';
import { DocumentMetrics } from '../documents/document-metrics';
import { entityFromRow } from '../documents/entity-from-row';
import { PayloadStore, PayloadTooLarge, StorageFailed, StoredPayload, bodyModeOf, hashPayloadStream } from './payload-store';

/**
 * The application/json variant (the contract's `DocumentCreateJson`): small payloads as base64
 * (the body is limited to 10 MiB). `metadata` is validated on its own, with
 * DocumentMetadataSchema, so that its errors name the same fields as in a multipart upload.
 */
const jsonBodySchema = DocumentCreateJsonSchema.extend({ metadata: z.unknown() });

interface Prepared {
  meta: DocumentMetadata;
  replyKey: Jwk | null;
  authority: KnownAuthority;
  /** The authority's active kids as the key directory answered for this upload. */
  activeKids: Set<string>;
}

/**
 * POST /documents. The object is streamed to S3 first (size and sha256 computed and the
 * JWE structure checked on the way); only then the row, the document.received event and
 * the idempotency record are committed in one transaction. Any refusal or failure
 * aborts the upload and removes the object: no row, no object, no event.
 */
@Injectable()
export class UploadService {
  private readonly logger = new Logger(UploadService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly messaging: Messaging,
    private readonly payloads: PayloadStore,
    private readonly idempotency: IdempotencyService,
    private readonly keyDirectory: AuthorityKeyDirectory,
    private readonly authorities: KnownAuthorities,
    private readonly receipts: ReceiptSigner,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
    private readonly metrics: DocumentMetrics,
  ) {}

  async upload(req: Request, citizen: Identity, idempotencyKeyHeader: string | undefined): Promise<StoredResponse<DocumentCreatedView>> {
    const mode = bodyModeOf(req, true);
    const key = IdempotencyService.validateKey(idempotencyKeyHeader);
    try {
      const claim = key ? await this.idempotency.claim<DocumentCreatedView>('upload', citizen.userId, key) : undefined;
      if (claim?.state === 'done') return await this.replay(req, mode, claim.fingerprint, claim.response);
      const lease = claim?.lease;
      try {
        return await this.store(req, mode, citizen, lease);
      } catch (err) {
        if (lease) await this.idempotency.release(lease);
        throw err;
      } finally {
        lease?.stop(); // the heartbeat lives exactly as long as the request's work
      }
    } catch (err) {
      throw this.payloads.toApiError(err);
    }
  }

  // ---- metadata ----------------------------------------------------------------------

  private async prepare(raw: unknown): Promise<Prepared> {
    const meta = parseOrThrow(DocumentMetadataSchema, raw, 'The metadata are invalid');
    this.payloads.refuseDeclaredTooLarge(meta.payloadSize);
    let replyKey: Jwk | null = null;
    if (meta.replyKey) {
      try {
        replyKey = (await validatePublicEncryptionJwk(meta.replyKey)).jwk;
      } catch (err) {
        if (!(err instanceof KeyValidationError)) throw err;
        throw ApiError.badRequest('The metadata are invalid', [{ field: 'replyKey', message: `${err.rule}: ${err.detail}` }]);
      }
    }
    const [authority, activeKids] = await Promise.all([
      this.authorities.find(meta.authorityId),
      this.keyDirectory.activeKids(meta.authorityId),
    ]);
    if (!authority || !activeKids) {
      throw ApiError.unprocessable('unknown-authority', 'No authority with this id is registered', [
        { field: 'authorityId', message: 'is not a registered authority' },
      ]);
    }
    return { meta, replyKey, authority, activeKids };
  }

  private jsonBody(req: Request): { metadata: unknown; payload: Buffer } {
    const body = parseOrThrow(jsonBodySchema, req.body, 'The request body is invalid');
    const payload = Buffer.from(body.encryptedPayload, 'base64');
    if (payload.length > this.config.MAX_UPLOAD_BYTES) throw new PayloadTooLarge();
    return { metadata: body.metadata, payload };
  }

  // ---- storing -------------------------------------------------------------------------

  private async store(
    req: Request,
    mode: 'multipart' | 'json',
    citizen: Identity,
    lease: IdempotencyLease | undefined,
  ): Promise<StoredResponse<DocumentCreatedView>> {
    const documentId = randomUUID();
    const objectKey = `documents/${documentId}`;
    let objectWritten = false;
    const write = (prepared: Prepared, source: Readable): Promise<StoredPayload> =>
      this.payloads.write(objectKey, source, prepared.activeKids, () => (objectWritten = true), prepared.meta.payloadSize);

    try {
      let prepared: Prepared;
      let stored: StoredPayload;
      if (mode === 'json') {
        const body = this.jsonBody(req);
        prepared = await this.prepare(body.metadata);
        stored = await write(prepared, Readable.from([body.payload]));
      } else {
        ({ prepared, stored } = await receiveMultipart(req, this.config.MAX_UPLOAD_BYTES, {
          onMetadata: (text) => this.prepare(parseMetadataJson(text)),
          onPayload: async (stream, p) => ({ prepared: p, stored: await write(p, stream) }),
        }));
      }
      return await this.commit(documentId, objectKey, citizen, prepared, stored, lease);
    } catch (err) {
      if (objectWritten) await this.payloads.remove(objectKey);
      throw err;
    }
  }

  private async commit(
    documentId: string,
    objectKey: string,
    citizen: Identity,
    { meta, replyKey, authority }: Prepared,
    stored: StoredPayload,
    lease: IdempotencyLease | undefined,
  ): Promise<StoredResponse<DocumentCreatedView>> {
    const createdAt = new Date();
    const fingerprint = this.fingerprint(meta, stored.sha256);
    const receipt = this.receipts.sign({
      documentId,
      authorityId: meta.authorityId,
      documentType: meta.documentType,
      size: stored.size,
      sha256: stored.sha256,
      payloadKid: stored.kid,
      createdAt,
    });
    return this.messaging.transaction(
      async (manager, emit) => {
        // One statement, one round trip: the pending object is released (the object is now the
        // document's), the row is written and its first history step recorded, and the row
        // comes back for the answer. The object was swept as abandoned meanwhile (no pending
        // row to release) → nothing is written, StorageFailed → 503.
        const rows = (await manager.query(
          `WITH released AS (
             DELETE FROM pending_objects WHERE object_key = $9 RETURNING object_key
           ), doc AS (
             INSERT INTO documents (id, citizen_id, authority_id, reference_number, document_type, service_key, region_key, reply_key,
               payload_key, payload_size, payload_sha256, payload_format, retention_date, created_at, updated_at,
               payload_kid, receipt, receipt_kid)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16, $17 FROM released
             RETURNING *
           ), history AS (
             INSERT INTO document_history (id, document_id, state, actor_role, reason_code)
             SELECT $18, id, 'RECEIVED', 'citizen', NULL FROM doc
           )
           SELECT * FROM doc`,
          [
            documentId,
            citizen.userId,
            meta.authorityId,
            meta.referenceNumber,
            meta.documentType,
            meta.serviceKey ?? null,
            meta.regionKey ?? null,
            replyKey ? JSON.stringify(replyKey) : null,
            objectKey,
            stored.size,
            stored.sha256,
            stored.format,
            retentionDate(createdAt, authority.retentionPeriod),
            createdAt,
            stored.kid,
            receipt.jws,
            receipt.kid,
            randomUUID(),
          ],
        )) as Array<Record<string, unknown>>;
        if (rows.length !== 1) throw new StorageFailed();
        const doc = entityFromRow(manager, DocumentEntity, rows[0]);
        this.metrics.receivedIn(manager);
        await emit('document.received', {
          documentId,
          citizenId: citizen.userId,
          authorityId: meta.authorityId,
          documentType: meta.documentType,
          serviceKey: meta.serviceKey ?? null,
          regionKey: meta.regionKey ?? null,
          referenceNumber: meta.referenceNumber,
          createdAt: createdAt.toISOString(),
        });
        await emit('document.status-changed', {
          documentId,
          citizenId: citizen.userId,
          authorityId: doc.authorityId,
          unitId: null,
          status: 'RECEIVED',
        });
        const response: StoredResponse<DocumentCreatedView> = {
          status: 201,
          location: `/api/v1/documents/${documentId}`,
          body: { ...toDocumentView(doc, citizen), receipt: doc.receipt! },
        };
        if (lease) await this.idempotency.complete(manager, lease, fingerprint, documentId, response);
        this.logger.log({ documentId, authorityId: meta.authorityId, size: stored.size }, 'document received');
        return response;
      },
      { correlationId: documentId },
    );
  }

  // ---- idempotent replay -----------------------------------------------------------------

  /** What an Idempotency-Key compares: the metadata and the payload's hash (which covers its declared size). */
  private fingerprint(meta: DocumentMetadata, payloadSha256: string): string {
    const { payloadSize: _size, ...described } = meta;
    return createHash('sha256').update(canonicalJson(described)).update('\n').update(payloadSha256).digest('hex');
  }

  /** The same key again: hash what was sent (storing nothing) and answer the first response, or 422. */
  private async replay(
    req: Request,
    mode: 'multipart' | 'json',
    fingerprint: string,
    response: StoredResponse<DocumentCreatedView>,
  ): Promise<StoredResponse<DocumentCreatedView>> {
    let meta: DocumentMetadata;
    let sha: string;
    if (mode === 'json') {
      const body = this.jsonBody(req);
      meta = parseOrThrow(DocumentMetadataSchema, body.metadata, 'The metadata are invalid');
      sha = createHash('sha256').update(body.payload).digest('hex');
    } else {
      ({ meta, sha } = await receiveMultipart(req, this.config.MAX_UPLOAD_BYTES, {
        onMetadata: async (text) => parseOrThrow(DocumentMetadataSchema, parseMetadataJson(text), 'The metadata are invalid'),
        onPayload: async (stream, m) => ({ meta: m, sha: await hashPayloadStream(stream) }),
      }));
    }
    if (this.fingerprint(meta, sha) !== fingerprint) {
      throw ApiError.unprocessable('idempotency-key-reused', 'This Idempotency-Key was used for a different request');
    }
    return response;
  }
}
