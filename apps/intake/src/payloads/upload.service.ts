import { createHash, randomUUID } from 'node:crypto';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import { DataSource, TypeORMError } from 'typeorm';
import { z } from 'zod';
import { DocumentCreateJsonSchema, DocumentMetadata, DocumentMetadataSchema, Identity, Jwk } from '@dvd/contracts';
import {
  ApiError,
  JweInspector,
  JweSummary,
  JweValidationError,
  KeyValidationError,
  Messaging,
  ObjectStorage,
  jweValidatingStream,
  parseOrThrow,
  retentionDate,
  validatePublicEncryptionJwk,
} from '@dvd/platform';
import { AuthorityKeyDirectory } from '../authorities/authority-key-directory';
import { KnownAuthority, findKnownAuthority } from '../authorities/known-authority';
import { DocumentEntity } from '../documents/document.entity';
import { toDocumentView } from '../documents/document.view';
import { INTAKE_CONFIG } from '../intake-config.token';
import { IntakeConfig } from '../intake.config';
import { canonicalJson } from './canonical-json';
import { IdempotencyLease, IdempotencyService, StoredResponse } from './idempotency.service';
import { receiveMultipart } from './multipart-upload';

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

interface StoredPayload {
  size: number;
  sha256: string;
  format: JweSummary['format'];
}

class PayloadTooLarge extends Error {}
class StorageFailed extends Error {}

const tooLarge = (max: number) => new ApiError(413, 'payload-too-large', 'Content Too Large', `The encrypted payload exceeds ${max} bytes`);

/** Whatever Postgres, the pool or S3 threw: answered as 503, nothing half-stored remains. */
function isInfrastructureError(err: unknown): boolean {
  if (err instanceof StorageFailed || err instanceof TypeORMError) return true;
  const e = err as { code?: unknown; errno?: unknown; $metadata?: unknown; message?: unknown };
  if (e?.$metadata) return true; // AWS SDK
  if (typeof e?.errno === 'number') return true; // socket errors
  if (typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return true; // a Postgres SQLSTATE
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    String(e?.message),
  );
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
    private readonly storage: ObjectStorage,
    private readonly idempotency: IdempotencyService,
    private readonly keyDirectory: AuthorityKeyDirectory,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  async upload(req: Request, citizen: Identity, idempotencyKeyHeader: string | undefined): Promise<StoredResponse> {
    const mode = this.bodyMode(req);
    const key = IdempotencyService.validateKey(idempotencyKeyHeader);
    try {
      const claim = key ? await this.idempotency.claim(citizen.userId, key) : undefined;
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
      throw this.toApiError(err);
    }
  }

  private bodyMode(req: Request): 'multipart' | 'json' {
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    if (type.startsWith('multipart/form-data')) return 'multipart';
    if (type.startsWith('application/json')) return 'json';
    throw new ApiError(
      415,
      'unsupported-media-type',
      'Unsupported Media Type',
      'Send multipart/form-data (metadata, then encryptedPayload) or application/json',
    );
  }

  private toApiError(err: unknown): unknown {
    if (err instanceof ApiError) return err;
    if (err instanceof PayloadTooLarge) return tooLarge(this.config.MAX_UPLOAD_BYTES);
    if (err instanceof JweValidationError)
      return ApiError.unprocessable(err.rule, err.detail, [{ field: 'encryptedPayload', message: err.detail }]);
    if (isInfrastructureError(err)) {
      this.logger.warn({ errorName: (err as Error)?.name, code: (err as { code?: string })?.code }, 'upload failed on storage or database');
      return ApiError.unavailable();
    }
    return err;
  }

  // ---- metadata ----------------------------------------------------------------------

  private async prepare(raw: unknown): Promise<Prepared> {
    const meta = parseOrThrow(DocumentMetadataSchema, raw, 'The metadata are invalid');
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
      findKnownAuthority(this.db.manager, meta.authorityId),
      this.keyDirectory.activeKids(meta.authorityId),
    ]);
    if (!authority || !activeKids) {
      throw ApiError.unprocessable('unknown-authority', 'No authority with this id is registered', [
        { field: 'authorityId', message: 'is not a registered authority' },
      ]);
    }
    return { meta, replyKey, authority, activeKids };
  }

  private parseMetadataText(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw ApiError.badRequest('The metadata part is not JSON', [{ field: 'metadata', message: 'must be a JSON object' }]);
    }
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
  ): Promise<StoredResponse> {
    const documentId = randomUUID();
    const objectKey = `documents/${documentId}`;
    let objectWritten = false;
    const write = async (prepared: Prepared, source: Readable): Promise<StoredPayload> => {
      // recorded first, so that a crash between upload and commit leaves a trace the sweeper follows
      await this.db.query(`INSERT INTO pending_objects (object_key) VALUES ($1)`, [objectKey]);
      objectWritten = true;
      return this.streamToStorage(source, objectKey, prepared.activeKids);
    };

    try {
      let prepared: Prepared;
      let stored: StoredPayload;
      if (mode === 'json') {
        const body = this.jsonBody(req);
        prepared = await this.prepare(body.metadata);
        stored = await write(prepared, Readable.from([body.payload]));
      } else {
        ({ prepared, stored } = await receiveMultipart(req, this.config.MAX_UPLOAD_BYTES, {
          onMetadata: (text) => this.prepare(this.parseMetadataText(text)),
          onPayload: async (stream, p) => ({ prepared: p, stored: await write(p, stream) }),
        }));
      }
      return await this.commit(documentId, objectKey, citizen, prepared, stored, lease);
    } catch (err) {
      if (objectWritten) await this.removeObject(objectKey);
      throw err;
    }
  }

  private async streamToStorage(source: Readable, objectKey: string, activeKids: Set<string>): Promise<StoredPayload> {
    const hash = createHash('sha256');
    let size = 0;
    let summary: JweSummary | undefined;
    source.once('limit', () => source.destroy(new PayloadTooLarge()));
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    const inspector = new JweInspector({ acceptKids: (kids) => kids.some((k) => activeKids.has(k)) });
    const body = new PassThrough();
    const abort = new AbortController();
    const upload = this.storage.upload(objectKey, body, { signal: abort.signal, contentType: 'application/jose' });
    upload.catch(() => body.destroy(new StorageFailed()));
    const flow = pipeline(
      source,
      meter,
      jweValidatingStream(inspector, (s) => (summary = s)),
      body,
    );
    flow.catch(() => abort.abort());
    const [flowResult, uploadResult] = await Promise.allSettled([flow, upload]);
    if (flowResult.status === 'rejected') {
      const reason: unknown = flowResult.reason;
      if (reason instanceof PayloadTooLarge || reason instanceof JweValidationError) throw reason;
      if (uploadResult.status === 'rejected') throw new StorageFailed();
      throw reason instanceof StorageFailed ? reason : ApiError.badRequest('The upload ended before it was complete');
    }
    if (uploadResult.status === 'rejected') throw new StorageFailed();
    return { size, sha256: hash.digest('hex'), format: summary!.format };
  }

  private async commit(
    documentId: string,
    objectKey: string,
    citizen: Identity,
    { meta, replyKey, authority }: Prepared,
    stored: StoredPayload,
    lease: IdempotencyLease | undefined,
  ): Promise<StoredResponse> {
    const createdAt = new Date();
    const fingerprint = this.fingerprint(meta, stored.sha256);
    return this.messaging.transaction(
      async (manager, emit) => {
        await manager.query(
          `INSERT INTO documents (id, citizen_id, authority_id, reference_number, document_type, service_key, region_key, reply_key,
             payload_key, payload_size, payload_sha256, payload_format, retention_date, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)`,
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
          ],
        );
        const [released] = (await manager.query(`DELETE FROM pending_objects WHERE object_key = $1 RETURNING object_key`, [objectKey])) as [
          unknown[],
          number,
        ];
        if (released.length !== 1) throw new StorageFailed(); // swept as abandoned meanwhile: the object is gone
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
        const doc = await manager.getRepository(DocumentEntity).findOneByOrFail({ id: documentId });
        const response: StoredResponse = { status: 201, location: `/api/v1/documents/${documentId}`, body: toDocumentView(doc, citizen) };
        if (lease) await this.idempotency.complete(manager, lease, fingerprint, documentId, response);
        this.logger.log({ documentId, authorityId: meta.authorityId, size: stored.size }, 'document received');
        return response;
      },
      { correlationId: documentId },
    );
  }

  private async removeObject(objectKey: string) {
    try {
      await this.storage.delete(objectKey);
      await this.db.query(`DELETE FROM pending_objects WHERE object_key = $1`, [objectKey]);
    } catch {
      // the pending_objects row stays; the sweeper deletes the object later
    }
  }

  // ---- idempotent replay -----------------------------------------------------------------

  private fingerprint(meta: DocumentMetadata, payloadSha256: string): string {
    return createHash('sha256').update(canonicalJson(meta)).update('\n').update(payloadSha256).digest('hex');
  }

  /** The same key again: hash what was sent (storing nothing) and answer the first response, or 422. */
  private async replay(req: Request, mode: 'multipart' | 'json', fingerprint: string, response: StoredResponse): Promise<StoredResponse> {
    let meta: DocumentMetadata;
    let sha: string;
    if (mode === 'json') {
      const body = this.jsonBody(req);
      meta = parseOrThrow(DocumentMetadataSchema, body.metadata, 'The metadata are invalid');
      sha = createHash('sha256').update(body.payload).digest('hex');
    } else {
      ({ meta, sha } = await receiveMultipart(req, this.config.MAX_UPLOAD_BYTES, {
        onMetadata: async (text) => parseOrThrow(DocumentMetadataSchema, this.parseMetadataText(text), 'The metadata are invalid'),
        onPayload: async (stream, m) => {
          const hash = createHash('sha256');
          stream.once('limit', () => stream.destroy(new PayloadTooLarge()));
          for await (const chunk of stream) hash.update(chunk as Buffer);
          return { meta: m, sha: hash.digest('hex') };
        },
      }));
    }
    if (this.fingerprint(meta, sha) !== fingerprint) {
      throw ApiError.unprocessable('idempotency-key-reused', 'This Idempotency-Key was used for a different request');
    }
    return response;
  }
}
