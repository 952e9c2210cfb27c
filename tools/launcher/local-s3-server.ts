/**
 * The local S3 store (s3rver) as a process of its own, so that its CPU and memory are its
 * own and not the launcher's: `node local-s3-server.js <directory> <port> <bucket>`. Prints
 * `local S3 on <endpoint>` once it listens.
 */
import { startLocalS3 } from '@dvd/testing';

const [directory, port, bucket] = process.argv.slice(2);
startLocalS3({ directory, port: Number(port), buckets: [bucket] }).then(
  (s3) => {
    process.stdout.write(`local S3 on ${s3.endpoint}\n`);
    const stop = () => void s3.stop().finally(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  },
  (err: unknown) => {
    process.stderr.write(`local S3 failed: ${String(err)}\n`);
    process.exit(1);
  },
);
