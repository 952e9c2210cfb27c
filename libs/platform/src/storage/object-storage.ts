import { Agent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface ObjectStorageOptions {
  endpoint?: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  maxSockets?: number;
}

export interface StoredObject {
  body: Readable;
  contentLength: number;
  eTag?: string;
}

/**
 * S3 access streamed both ways. The client settings matter (STACK-NOTES.md): checksums
 * only when required, or the SDK sends `aws-chunked` bodies that S3-compatible servers
 * such as s3rver store framing and all; path-style addressing for local endpoints; more
 * sockets than the SDK's default 50, so concurrent uploads do not queue in the client.
 */
export class ObjectStorage {
  readonly client: S3Client;
  readonly bucket: string;

  constructor(o: ObjectStorageOptions) {
    this.bucket = o.bucket;
    const maxSockets = o.maxSockets ?? 512;
    this.client = new S3Client({
      endpoint: o.endpoint,
      region: o.region,
      credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: new NodeHttpHandler({
        httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
        httpsAgent: new Agent({ keepAlive: true, maxSockets }),
        connectionTimeout: 5_000,
        requestTimeout: 60_000,
      }),
    });
  }

  /**
   * Streams `body` into the object `key` (multipart for large bodies, 8 MiB parts). If the
   * stream fails or `signal` aborts, the multipart upload is aborted so nothing remains.
   */
  async upload(key: string, body: Readable, opts: { contentType?: string; signal?: AbortSignal } = {}): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: opts.contentType ?? 'application/octet-stream' },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const onAbort = () => void upload.abort().catch(() => undefined);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  async download(key: string, range?: string): Promise<StoredObject> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range }));
    return { body: out.Body as Readable, contentLength: Number(out.ContentLength ?? 0), eTag: out.ETag };
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Deletes an object; deleting a missing object is not an error (idempotent). */
  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
  }

  /** Readiness: the bucket answers. */
  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  /** Creates the bucket if missing (development and tests; production buckets are provisioned). */
  async ensureBucket(): Promise<void> {
    try {
      await this.ping();
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
      } catch (e) {
        const name = (e as { name?: string }).name;
        if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw e;
      }
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}

export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.name === 'NoSuchBucket' || e?.$metadata?.httpStatusCode === 404;
}

/** The S3_* variables (see s3Env) as client options. */
export function storageOptionsFrom(c: {
  S3_ENDPOINT?: string;
  S3_BUCKET: string;
  S3_REGION: string;
  S3_ACCESS_KEY_ID: string;
  S3_SECRET_ACCESS_KEY: string;
}): ObjectStorageOptions {
  return {
    endpoint: c.S3_ENDPOINT,
    bucket: c.S3_BUCKET,
    region: c.S3_REGION,
    accessKeyId: c.S3_ACCESS_KEY_ID,
    secretAccessKey: c.S3_SECRET_ACCESS_KEY,
  };
}
