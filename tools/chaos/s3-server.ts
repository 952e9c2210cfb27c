/**
 * The local S3 store as a process of its own (the chaos suite kills and restarts it):
 * `node s3-server.js <directory> <port> <bucket>`.
 */
import { startLocalS3 } from '@dvd/testing';

const [directory, port, bucket] = process.argv.slice(2);
startLocalS3({ directory, port: Number(port), buckets: [bucket] }).then(
  (s3) => process.stdout.write(`local S3 on ${s3.endpoint}\n`),
  (err: unknown) => {
    process.stderr.write(`local S3 failed: ${String(err)}\n`);
    process.exit(1);
  },
);
