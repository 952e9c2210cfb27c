import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3rver from 's3rver';

/** The keys s3rver accepts. Passed explicitly: without keys the services use the AWS default credential chain. */
/** How long the local store keeps an idle connection open. */
export const LOCAL_S3_KEEP_ALIVE_MS = 65_000;

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
  atomicPuts(server);
  const address = await server.run();
  // like the services (HTTP_KEEP_ALIVE_TIMEOUT_MS): a client's pool lets idle connections go
  // first (ObjectStorage after 15 s), and connections survive the pauses between loads
  // instead of being made again for every burst (Node's default is 5 s)
  if (server.httpServer) {
    server.httpServer.keepAliveTimeout = LOCAL_S3_KEEP_ALIVE_MS;
    server.httpServer.headersTimeout = LOCAL_S3_KEEP_ALIVE_MS + 1_000;
  }
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

/**
 * A PUT takes effect only once its body has arrived whole, as on S3: s3rver writes straight
 * into the object's file and ends it when the request ends, so a request cut short (the
 * uploader gave up, a payload failed its check half-way) became a stored object of fewer
 * bytes, sometimes after the uploader had already deleted the key. Here the body goes to a
 * file of another name (s3rver lists only its own suffix) that is renamed when complete and
 * removed when the request breaks off; the metadata is written after it, as s3rver does.
 */
function atomicPuts(server: S3rver): void {
  const store = server.store;
  store.putObject = async (object) => {
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    const partial = `${objectPath}.${randomUUID()}.partial`;
    const md5 = createHash('md5');
    let size = 0;
    try {
      if (Buffer.isBuffer(object.content)) {
        md5.update(object.content);
        size = object.content.length;
        await writeFile(partial, object.content);
      } else {
        const measure = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            md5.update(chunk);
            size += chunk.length;
            cb(null, chunk);
          },
        });
        // a request whose connection breaks before its Content-Length is complete fails here
        await pipeline(object.content, measure, createWriteStream(partial));
      }
      await rename(partial, objectPath);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    const digest = md5.digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  };
}
