import { mkdir } from 'node:fs/promises';
import S3rver from 's3rver';

export interface LocalS3 {
  endpoint: string;
  port: number;
  /** Stops the server and cuts open keep-alive connections (a real outage, for 503 tests). */
  stop(): Promise<void>;
}

/**
 * The project's own S3-compatible server for development and tests (s3rver on a data
 * folder). Never part of a production image: production uses S3 or MinIO via S3_ENDPOINT.
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
    stop: async () => {
      const closing = server.close();
      server.httpServer?.closeAllConnections();
      await closing;
    },
  };
}
