/**
 * One SDK client in its own process (so that its peak RSS is the client's alone): makes a
 * random file of SDK_BENCH_BYTES, sends it with `sendDocument` (encrypt + upload + sha256
 * check), then opens it with `openDocument` (download + sha256 check + decrypt) and checks
 * the bytes. Prints one JSON line with the timings and the peak RSS.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DvdClient, type PrivateJwk } from '@dvd/sdk';

async function main() {
  const env = (name: string) => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is required`);
    return v;
  };
  const bytes = Number(env('SDK_BENCH_BYTES'));
  const privateJwk = JSON.parse(await readFile(env('SDK_BENCH_PRIVATE_JWK'), 'utf8')) as PrivateJwk;
  const publicJwk = JSON.parse(env('SDK_BENCH_PUBLIC_JWK')) as PrivateJwk;
  const citizen = new DvdClient({ baseUrl: env('SDK_BENCH_API'), token: env('SDK_BENCH_CITIZEN_TOKEN') });
  const official = new DvdClient({ baseUrl: env('SDK_BENCH_API'), token: env('SDK_BENCH_OFFICIAL_TOKEN') });
  const file = randomBytes(bytes);
  const rssBefore = process.memoryUsage().rss;

  let t = performance.now();
  const sent = await citizen.sendDocument({
    file,
    recipientKey: publicJwk,
    metadata: { authorityId: env('SDK_BENCH_AUTHORITY'), referenceNumber: 'BENCH-SDK', documentType: 'BENCH' },
  });
  const sendMs = performance.now() - t;
  // ru_maxrss is in KiB on Linux; the peak so far is the send's
  const sendPeakRssMiB = process.resourceUsage().maxRSS / 1024;

  t = performance.now();
  const opened = await official.openDocument(sent.document.id, privateJwk);
  const openMs = performance.now() - t;
  // a view of the plaintext, not a copy: the check must not add a file's size to the client's peak
  const plain = opened.plaintext;
  const identical = Buffer.compare(Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength), file) === 0;

  process.stdout.write(
    `${JSON.stringify({
      bytes,
      containerBytes: sent.document.payload.size,
      sendMs,
      openMs,
      identical,
      rssBeforeMiB: rssBefore / 1048576,
      sendPeakRssMiB,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
