import { Agent } from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { S3Target } from './types';

/**
 * A client for the anchor figures: PUTs straight to the platform's S3 store. The payload is
 * sent unsigned (`UNSIGNED-PAYLOAD`), so the bench does not hash what it sends and the
 * figure is the store's, not the client's.
 */
export function directS3Client(s3: S3Target, o: { maxSockets?: number; keepAlive?: boolean; idleTimeoutMs?: number } = {}): S3Client {
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({
      httpAgent: new Agent({
        keepAlive: o.keepAlive ?? true,
        maxSockets: o.maxSockets ?? 64,
        ...(o.idleTimeoutMs ? { timeout: o.idleTimeoutMs } : {}),
      }),
      requestTimeout: 300_000,
    }),
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { headers?: Record<string, string> };
      if (req.headers) req.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    { step: 'build', name: 'benchUnsignedPayload' },
  );
  return client;
}
