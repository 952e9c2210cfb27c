import { mkdir } from 'node:fs/promises';
import S3rver from 's3rver';

/** The keys s3rver accepts. Passed explicitly: without keys the services use the AWS default credential chain. */
export const LOCAL_S3_KEYS = { S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER' } as const;

export interface LocalS3 {
  endpoint: string;
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
  /** Stops the server and cuts open keep-alive connections (a real outage, for 503 tests). */
  stop(): Promise<void>;
}

/**
 * The project's own S3-compatible server for development and tests (s3rver on a data
 * folder). Never part of a production image: production uses S3 or an S3-compatible store via S3_ENDPOINT.
 */
export async function startLocalS3(o: { directory: string; port?: number; address?: string; buckets?: string[] }): Promise<LocalS3> {
  await mkdir(o.directory, { recursive: true });
  const server = new S3rver({
    address: o.address ?? '127.0.0.1',
    port: o.port ?? 0,
    directory: o.directory,
    silent: true,
    vhostBuckets: false,
    configureBuckets: (o.buckets ?? []).map((name) => ({ name })),
  });
  const address = await server.run();
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    endpoint: `http://${host}:${address.port}`,
    port: address.port,
    accessKeyId: LOCAL_S3_KEYS.S3_ACCESS_KEY_ID,
    secretAccessKey: LOCAL_S3_KEYS.S3_SECRET_ACCESS_KEY,
    stop: async () => {
      const closing = server.close();
      server.httpServer?.closeAllConnections();
      await closing;
    },
  };
}
