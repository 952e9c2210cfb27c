import { Agent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import { Readable } from 'node:stream';
import type { ObjectIdentifier, S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@nestjs/common';
import { ConfigError } from '../config/config';

type S3Sdk = typeof import('@aws-sdk/client-s3');
type LibStorage = typeof import('@aws-sdk/lib-storage');
type HttpHandler = typeof import('@smithy/node-http-handler');
let loaded: { s3: S3Sdk; storage: LibStorage; http: HttpHandler } | undefined;

/**
 * The S3 SDK, loaded with the first ObjectStorage: every app imports the platform, but the
 * gateway and realtime never store an object, and the SDK costs some 30 MiB of memory per
 * process (measured; the realtime benchmark holds 10,000 streams in four such processes).
 */
function sdk() {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return (loaded ??= {
    s3: require('@aws-sdk/client-s3') as S3Sdk,
    storage: require('@aws-sdk/lib-storage') as LibStorage,
    http: require('@smithy/node-http-handler') as HttpHandler,
  });
  /* eslint-enable @typescript-eslint/no-require-imports */
}
const storageLog = new Logger('ObjectStorage');
/** The SDK's own text (fixed sentences), never an argument that might carry a key or data. */
const sdkText = (args: unknown[]) => (typeof args[0] === 'string' ? args[0].slice(0, 200) : 'AWS SDK message');
/**
 * The SDK's warnings into our log (without a logger it writes some to the console), e.g. that
 * a failed streamed request is not retried. Everything else is dropped: the SDK logs every
 * command's input and every failed command, which reach our code as results and rejections.
 */
const sdkLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (...args: unknown[]) => storageLog.warn(sdkText(args)),
  error: () => undefined,
};

export interface ObjectStorageOptions {
  endpoint?: string;
  bucket: string;
  region: string;
  /** Static keys (local and self-hosted stores); without them the AWS SDK's default credential chain. */
  accessKeyId?: string;
  secretAccessKey?: string;
  maxSockets?: number;
  /** Versions listed per ListObjectVersions page when deleting (S3's maximum, 1000; tests page smaller). */
  versionPageSize?: number;
}

export interface StoredObject {
  body: Readable;
  contentLength: number;
  eTag?: string;
}

/**
 * S3 access streamed both ways. The client settings matter: checksums
 * only when required, or the SDK sends `aws-chunked` bodies that S3-compatible servers
 * such as s3rver store framing and all; path-style addressing for local endpoints; more
 * sockets than the SDK's default 50, so concurrent uploads do not queue in the client.
 */
export class ObjectStorage {
  readonly client: S3Client;
  readonly bucket: string;
  /** The connection pools to the store (one per protocol). */
  readonly agents: { http: HttpAgent; https: Agent };
  private readonly versionPageSize: number;

  constructor(o: ObjectStorageOptions) {
    this.bucket = o.bucket;
    this.versionPageSize = o.versionPageSize ?? 1000;
    const maxSockets = o.maxSockets ?? 512;
    const { s3, http } = sdk();
    this.agents = {
      http: new HttpAgent({ keepAlive: true, maxSockets, timeout: IDLE_STORE_SOCKET_MS }),
      https: new Agent({ keepAlive: true, maxSockets, timeout: IDLE_STORE_SOCKET_MS }),
    };
    this.client = new s3.S3Client({
      endpoint: o.endpoint,
      region: o.region,
      // no keys: the default chain (web identity token of IRSA / Pod Identity, container or
      // instance role, AWS_* variables), which also refreshes temporary credentials
      credentials: o.accessKeyId && o.secretAccessKey ? { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } : undefined,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      logger: sdkLogger,
      requestHandler: new http.NodeHttpHandler({
        // With a timeout, Node's agent also honours the store's `Keep-Alive: timeout=N` and
        // lets an idle connection go a second before the store closes it; without one it keeps
        // idle connections forever, and a request sent on one the store is closing at that
        // moment fails (ECONNRESET). A streamed PutObject cannot be retried, so that failure
        // reached citizens as 503 (seen in a burst that followed a few idle seconds).
        httpAgent: this.agents.http,
        httpsAgent: this.agents.https,
        connectionTimeout: 5_000,
        requestTimeout: 60_000,
      }),
    });
    if (payloadTravelsSafely(o.endpoint)) {
      // Object bodies are not hashed into the request signature where TLS (or the loopback
      // interface) already protects them on the way: SigV4's payload hash would be one more
      // SHA-256 pass over every uploaded byte. The upload's own sha256 is computed anyway.
      this.client.middlewareStack.add(
        (next, context) => async (args) => {
          const request = args.request as { headers?: Record<string, string> };
          if (UNSIGNED_BODY_COMMANDS.has(context.commandName ?? '') && request.headers)
            request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
          return next(args);
        },
        { step: 'build', name: 'dvdUnsignedObjectPayload' },
      );
    }
  }

  /**
   * Streams `body` into the object `key`. With `contentLength` (the caller guarantees that
   * `body` yields exactly that many bytes, or fails) in one PutObject, the bytes passed on as
   * they arrive; without it as a multipart upload (8 MiB parts; a body shorter than one part
   * is sent as one PutObject once it has ended). If the stream fails or `signal` aborts, the
   * request or the multipart upload is aborted so nothing remains.
   */
  async upload(
    key: string,
    body: Readable,
    opts: { contentType?: string; contentLength?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    const contentType = opts.contentType ?? 'application/octet-stream';
    if (opts.contentLength !== undefined) {
      // a failing body ends the request (the store would wait for the rest of its length);
      // a streamed body is never retried by the SDK (it cannot be replayed): the caller answers 503
      const abort = new AbortController();
      const onError = () => abort.abort();
      body.once('error', onError);
      const signal = opts.signal ? AbortSignal.any([opts.signal, abort.signal]) : abort.signal;
      try {
        await this.client.send(
          new (sdk().s3.PutObjectCommand)({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            ContentLength: opts.contentLength,
            ContentType: contentType,
          }),
          { abortSignal: signal },
        );
      } finally {
        body.off('error', onError);
      }
      return;
    }
    const upload = new (sdk().storage.Upload)({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType },
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
    const out = await this.client.send(new (sdk().s3.GetObjectCommand)({ Bucket: this.bucket, Key: key, Range: range }));
    return { body: out.Body as Readable, contentLength: Number(out.ContentLength ?? 0), eTag: out.ETag };
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new (sdk().s3.HeadObjectCommand)({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Deletes an object for good: on a versioned bucket every version and delete marker of
   * exactly this key (a plain DeleteObject there only adds a delete marker and keeps the
   * data), on an unversioned one the object. Deleting a missing object is not an error
   * (idempotent). Stores without ListObjectVersions (s3rver) get a plain DeleteObject.
   */
  async delete(key: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.versionListing !== 'unsupported') {
      try {
        await this.deleteAllVersions(key, opts.signal);
        this.versionListing = 'supported';
        return;
      } catch (err) {
        if (this.versionListing === 'supported' || !isNotImplemented(err)) throw err;
        this.versionListing = 'unsupported';
      }
    }
    await this.client.send(new (sdk().s3.DeleteObjectCommand)({ Bucket: this.bucket, Key: key }), { abortSignal: opts.signal });
  }

  /** Whether the store answers ListObjectVersions; learnt on the first delete. */
  private versionListing: 'unknown' | 'supported' | 'unsupported' = 'unknown';

  /**
   * Lists the key's versions and deletes what it found, from the start again until nothing
   * is left: continuing with NextKeyMarker after deleting that very page skips versions on
   * some stores, starting over never does (and also catches versions written meanwhile).
   */
  private async deleteAllVersions(key: string, signal?: AbortSignal): Promise<void> {
    for (let page = 0; page < MAX_VERSION_PAGES; page++) {
      const out = await this.client.send(
        new (sdk().s3.ListObjectVersionsCommand)({ Bucket: this.bucket, Prefix: key, MaxKeys: this.versionPageSize }),
        { abortSignal: signal },
      );
      // the prefix also matches longer keys (documents/1 → documents/10)
      const mine: ObjectIdentifier[] = [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])]
        .filter((v) => v.Key === key)
        .map((v) => ({ Key: key, VersionId: v.VersionId ?? undefined }));
      if (!mine.length) return;
      const res = await this.client.send(
        new (sdk().s3.DeleteObjectsCommand)({ Bucket: this.bucket, Delete: { Objects: mine, Quiet: true } }),
        {
          abortSignal: signal,
        },
      );
      const failed = (res.Errors ?? []).filter((e) => e.Code !== 'NoSuchVersion' && e.Code !== 'NoSuchKey');
      if (failed.length) throw new ObjectDeleteError(failed[0].Code ?? 'Unknown', failed.length);
    }
    throw new ObjectDeleteError('TooManyVersions', 1);
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.client.send(new (sdk().s3.AbortMultipartUploadCommand)({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
  }

  /** Readiness: the bucket answers. */
  async ping(): Promise<void> {
    await this.client.send(new (sdk().s3.HeadBucketCommand)({ Bucket: this.bucket }));
  }

  /** Creates the bucket if missing (development and tests; production buckets are provisioned). */
  async ensureBucket(): Promise<void> {
    try {
      await this.ping();
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await this.client.send(new (sdk().s3.CreateBucketCommand)({ Bucket: this.bucket }));
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

const UNSIGNED_BODY_COMMANDS = new Set(['PutObjectCommand', 'UploadPartCommand']);

/**
 * How long an idle connection to the store stays in the pool at most: less than S3 keeps an
 * idle connection open (about 20 s), and less than a store's own `Keep-Alive: timeout` hint
 * minus a second where it sends one.
 */
export const IDLE_STORE_SOCKET_MS = 15_000;

/** AWS's own endpoints (none configured), https, or this machine: a body cannot be changed on the way. */
export function payloadTravelsSafely(endpoint: string | undefined): boolean {
  if (!endpoint) return true;
  const url = new URL(endpoint);
  return url.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/** Versions of one key beyond this many pages (of 1000) are left for the next attempt. */
const MAX_VERSION_PAGES = 100;

/** DeleteObjects answered 200 but refused some versions; `code` is S3's error code (no key, no data). */
export class ObjectDeleteError extends Error {
  constructor(
    readonly code: string,
    readonly count: number,
  ) {
    super(`S3 refused to delete ${count} version(s): ${code}`);
    this.name = 'ObjectDeleteError';
  }
}

/** The store does not implement the operation (s3rver answers ListObjectVersions with 405/501). */
function isNotImplemented(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotImplemented' || e?.name === 'MethodNotAllowed' || [405, 501].includes(e?.$metadata?.httpStatusCode ?? 0);
}

export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.name === 'NoSuchBucket' || e?.$metadata?.httpStatusCode === 404;
}

/** The S3_* variables (see s3Env) as client options: both keys, or neither (the default credential chain). */
export function storageOptionsFrom(c: {
  S3_ENDPOINT?: string;
  S3_BUCKET: string;
  S3_REGION: string;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
}): ObjectStorageOptions {
  if (!c.S3_ACCESS_KEY_ID !== !c.S3_SECRET_ACCESS_KEY) {
    const missing = c.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID';
    throw new ConfigError([
      { variable: missing, message: 'is required with the other S3 key (set both, or neither for the default credential chain)' },
    ]);
  }
  return {
    endpoint: c.S3_ENDPOINT,
    bucket: c.S3_BUCKET,
    region: c.S3_REGION,
    accessKeyId: c.S3_ACCESS_KEY_ID,
    secretAccessKey: c.S3_SECRET_ACCESS_KEY,
  };
}
