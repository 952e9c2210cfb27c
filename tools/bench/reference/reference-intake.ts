/**
 * The reference intake the bench measures the upload path against: the least a service
 * that receives an upload behind a gateway must do, written by hand on node:http — parse
 * the platform's multipart form (busboy, as intake), take the declared size from the
 * metadata part, hash the payload (sha256) while streaming it into ONE PutObject of that
 * length on a kept-alive connection (the AWS SDK, configured as the bench's direct PUT),
 * answer 201 with an id and the hash. Deliberately without what the platform adds: no
 * identity check, no schema, no JWE check, no database row, no event, no routing, no
 * logging. Put behind the reference gateway it is the floor of the design (a gateway and a
 * validating service in the byte path) on this machine, measured in the same run.
 *
 *   REF_S3_ENDPOINT=… REF_S3_BUCKET=… REF_S3_REGION=… REF_S3_ACCESS_KEY=… REF_S3_SECRET_KEY=…
 *   node reference-intake.js
 *
 * Prints `listening on <port>`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { Transform, TransformCallback } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import busboy from 'busboy';
import { directS3Client } from '../direct-s3';
import type { S3Target } from '../types';
import { eventLoopLag } from './event-loop-lag';

const MAX_BYTES = 100 * 1024 * 1024;

function answer(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': status < 300 ? 'application/json' : 'application/problem+json' });
  res.end(JSON.stringify(body));
}

/** Counts and hashes what passes through; fails (so the PUT is aborted) when it is not `expected` bytes. */
class Hashing extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly expected: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.expected) return done(new Error('longer than declared'));
    this.hash.update(chunk);
    done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    done(this.bytes === this.expected ? null : new Error('shorter than declared'));
  }
}

/** The reference intake's server (not yet listening), writing to `target`; `close()` also ends the S3 client. */
export function referenceIntake(target: S3Target): { server: Server; close(): Promise<void> } {
  // idle connections leave before the store closes them, as the platform's (ObjectStorage)
  const s3 = directS3Client(target, { maxSockets: 1024, keepAlive: true, idleTimeoutMs: 15_000 });
  const lag = eventLoopLag();
  const server = createServer((req, res) => {
    if (!lag(req, res)) handle(s3, target.bucket, req, res);
  });
  server.keepAliveTimeout = 65_000;
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        s3.destroy();
      }),
  };
}

function handle(s3: S3Client, bucket: string, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'POST') return answer(res, 405, { status: 405 });
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: req.headers, limits: { fields: 1, files: 1, parts: 2, fileSize: MAX_BYTES, fieldSize: 64 * 1024 } });
  } catch {
    return answer(res, 400, { status: 400 });
  }
  let size: number | null = null;
  bb.on('field', (name, value) => {
    if (name !== 'metadata') return;
    try {
      const declared = (JSON.parse(value) as { payloadSize?: unknown }).payloadSize;
      if (typeof declared === 'number' && Number.isSafeInteger(declared) && declared > 0 && declared <= MAX_BYTES) size = declared;
    } catch {
      size = null;
    }
  });
  let payloadSeen = false;
  bb.on('file', (name, stream) => {
    payloadSeen = true;
    if (name !== 'encryptedPayload' || size === null) {
      stream.resume();
      return answer(res, 400, { status: 400 });
    }
    const hashing = new Hashing(size);
    // a payload of another length, or a client gone: the PUT is aborted, nothing is stored
    const abort = new AbortController();
    hashing.on('error', () => abort.abort());
    stream.on('error', (err) => hashing.destroy(err));
    stream.pipe(hashing);
    const id = randomUUID();
    const put = new PutObjectCommand({ Bucket: bucket, Key: `bench-reference/${id}`, Body: hashing, ContentLength: size });
    s3.send(put, { abortSignal: abort.signal })
      .then(() => answer(res, 201, { id, sha256: hashing.hash.digest('base64url') }))
      .catch(() => {
        stream.resume();
        answer(res, hashing.bytes === size ? 502 : 400, { status: hashing.bytes === size ? 502 : 400 });
      });
  });
  bb.on('error', () => answer(res, 400, { status: 400 }));
  // a form without a payload part is answered too, not left hanging
  bb.on('close', () => {
    if (!payloadSeen) answer(res, 400, { status: 400 });
  });
  req.pipe(bb);
}

if (require.main === module) {
  const env = (name: string): string => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is required`);
    return v;
  };
  const { server, close } = referenceIntake({
    endpoint: env('REF_S3_ENDPOINT'),
    bucket: env('REF_S3_BUCKET'),
    region: env('REF_S3_REGION'),
    accessKeyId: env('REF_S3_ACCESS_KEY'),
    secretAccessKey: env('REF_S3_SECRET_KEY'),
  });
  server.listen(Number(process.env.REF_PORT ?? 0), '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`listening on ${typeof address === 'object' && address ? address.port : '?'}\n`);
  });
  process.once('SIGTERM', () => void close().then(() => process.exit(0)));
}
