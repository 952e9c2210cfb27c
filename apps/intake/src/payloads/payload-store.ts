import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import { DataSource, EntityManager, TypeORMError } from 'typeorm';
import { ApiError, JweInspector, JweSummary, JweValidationError, ObjectStorage } from '@dvd/platform';
import { INTAKE_CONFIG } from '../intake-config.token';
import { IntakeConfig } from '../intake.config';

export interface StoredPayload {
  size: number;
  sha256: string;
  format: JweSummary['format'];
  /** The recipient kid the container was accepted for: the first that is an active key of the authority. */
  kid: string;
}

export class PayloadTooLarge extends Error {}
/** The payload is not as long as the metadata's `payloadSize` declared. */
export class PayloadSizeMismatch extends Error {}
export class StorageFailed extends Error {}

const tooLarge = (max: number) => new ApiError(413, 'payload-too-large', 'Content Too Large', `The encrypted payload exceeds ${max} bytes`);

/** Whatever Postgres, the pool or S3 threw: answered as 503, nothing half-stored remains. */
export function isInfrastructureError(err: unknown): boolean {
  if (err instanceof StorageFailed || err instanceof TypeORMError) return true;
  const e = err as { code?: unknown; errno?: unknown; $metadata?: unknown; message?: unknown };
  if (e?.$metadata) return true; // AWS SDK
  if (typeof e?.errno === 'number') return true; // socket errors
  if (typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return true; // a Postgres SQLSTATE
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    String(e?.message),
  );
}

/** Only multipart/form-data (and, where `json` is allowed, application/json) is taken; anything else is 415. */
export function bodyModeOf(req: Request, allowJson: boolean): 'multipart' | 'json' {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) return 'multipart';
  if (allowJson && type.startsWith('application/json')) return 'json';
  throw new ApiError(
    415,
    'unsupported-media-type',
    'Unsupported Media Type',
    allowJson
      ? 'Send multipart/form-data (metadata, then encryptedPayload) or application/json'
      : 'Send multipart/form-data (metadata, then encryptedPayload)',
  );
}

/** SHA-256 of a payload stream read to its end (an idempotent replay stores nothing). */
export async function hashPayloadStream(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  stream.once('limit', () => stream.destroy(new PayloadTooLarge()));
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Encrypted containers on their way into object storage (uploads and forwards): streamed,
 * measured, hashed and checked as JWE on the way, against the active keys of the authority
 * they are for. A `pending_objects` row precedes every object, so that a crash between the
 * upload and the commit leaves a trace the sweeper follows; the commit releases it.
 */
@Injectable()
export class PayloadStore {
  private readonly logger = new Logger(PayloadStore.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly storage: ObjectStorage,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  /** Any refusal or failure of an upload, as the API answers it. */
  toApiError(err: unknown): unknown {
    if (err instanceof ApiError) return err;
    if (err instanceof PayloadTooLarge) return tooLarge(this.config.MAX_UPLOAD_BYTES);
    if (err instanceof PayloadSizeMismatch) {
      const detail = 'The encrypted payload is not as long as payloadSize declares';
      return ApiError.badRequest(detail, [{ field: 'payloadSize', message: 'must be the number of bytes of encryptedPayload' }]);
    }
    if (err instanceof JweValidationError)
      return ApiError.unprocessable(err.rule, err.detail, [{ field: 'encryptedPayload', message: err.detail }]);
    if (isInfrastructureError(err)) {
      this.logger.warn({ errorName: (err as Error)?.name, code: (err as { code?: string })?.code }, 'upload failed on storage or database');
      return ApiError.unavailable();
    }
    return err;
  }

  /** A declared payload size (ADR 0026) above MAX_UPLOAD_BYTES: refused before a byte of the payload is read. */
  refuseDeclaredTooLarge(declaredSize: number | undefined): void {
    if (declaredSize !== undefined && declaredSize > this.config.MAX_UPLOAD_BYTES) throw new PayloadTooLarge();
  }

  /**
   * Records the pending object, then streams `source` into it; `onPending` is called once an
   * object may exist. With `declaredSize` the object is written in one request of that length,
   * and a source of another length fails with PayloadSizeMismatch before the store takes it.
   */
  async write(
    objectKey: string,
    source: Readable,
    activeKids: Set<string>,
    onPending: () => void,
    declaredSize?: number,
  ): Promise<StoredPayload> {
    await this.db.query(`INSERT INTO pending_objects (object_key) VALUES ($1)`, [objectKey]);
    onPending();
    return this.streamToStorage(source, objectKey, activeKids, declaredSize);
  }

  /** In the commit's transaction: the object is now the document's. Swept meanwhile (the object is gone) → StorageFailed. */
  async release(manager: EntityManager, objectKey: string): Promise<void> {
    const [released] = (await manager.query(`DELETE FROM pending_objects WHERE object_key = $1 RETURNING object_key`, [objectKey])) as [
      unknown[],
      number,
    ];
    if (released.length !== 1) throw new StorageFailed();
  }

  async remove(objectKey: string): Promise<void> {
    try {
      await this.storage.delete(objectKey);
      await this.db.query(`DELETE FROM pending_objects WHERE object_key = $1`, [objectKey]);
    } catch {
      // the pending_objects row stays; the sweeper deletes the object later
    }
  }

  private async streamToStorage(
    source: Readable,
    objectKey: string,
    activeKids: Set<string>,
    declaredSize?: number,
  ): Promise<StoredPayload> {
    const hash = createHash('sha256');
    let size = 0;
    let summary: JweSummary | undefined;
    source.once('limit', () => source.destroy(new PayloadTooLarge()));
    const inspector = new JweInspector({ acceptKids: (kids) => kids.some((k) => activeKids.has(k)) });
    // one pass, one stream: counted, hashed and checked as JWE, then on to the store (the body
    // the S3 client reads); every stage more would be one more hand-over per chunk
    const body = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        // more than declared: fail before the store has more bytes than the request's length
        if (declaredSize !== undefined && size > declaredSize) return cb(new PayloadSizeMismatch());
        try {
          inspector.push(chunk);
        } catch (err) {
          return cb(err as Error);
        }
        hash.update(chunk);
        cb(null, chunk);
      },
      // fewer than declared: fail rather than end the body, or the store would wait for the rest
      flush(cb) {
        if (declaredSize !== undefined && size !== declaredSize) return cb(new PayloadSizeMismatch());
        inspector.finish().then((s) => {
          summary = s;
          cb();
        }, cb);
      },
    });
    const abort = new AbortController();
    const upload = this.storage.upload(objectKey, body, {
      signal: abort.signal,
      contentType: 'application/jose',
      contentLength: declaredSize,
    });
    upload.catch(() => body.destroy(new StorageFailed()));
    const flow = pipeline(source, body);
    flow.catch(() => abort.abort());
    const [flowResult, uploadResult] = await Promise.allSettled([flow, upload]);
    if (flowResult.status === 'rejected') {
      const reason: unknown = flowResult.reason;
      if (reason instanceof PayloadTooLarge || reason instanceof PayloadSizeMismatch || reason instanceof JweValidationError) throw reason;
      if (uploadResult.status === 'rejected') throw new StorageFailed();
      throw reason instanceof StorageFailed ? reason : ApiError.badRequest('The upload ended before it was complete');
    }
    if (uploadResult.status === 'rejected') throw new StorageFailed();
    return { size, sha256: hash.digest('hex'), format: summary!.format, kid: summary!.kids.find((k) => activeKids.has(k))! };
  }
}
