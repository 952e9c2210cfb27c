import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { generateAuthorityKeyPair } from '@dvd/sdk';
import type { BenchContext, BenchResult } from './types';
import { MiB, ratio, round } from './util';

interface ClientRun {
  bytes: number;
  containerBytes: number;
  sendMs: number;
  openMs: number;
  identical: boolean;
  rssBeforeMiB: number;
  /** The peak while sending (before the open began). */
  sendPeakRssMiB: number;
  peakRssMiB: number;
}

function runClient(env: Record<string, string>): Promise<ClientRun> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [join(__dirname, 'sdk-client.js')],
      { env: { ...process.env, ...env }, maxBuffer: 1024 * 1024, timeout: 10 * 60_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`SDK client failed: ${stderr.slice(-500)}`)) : resolve(JSON.parse(stdout) as ClientRun),
    ),
  );
}

/**
 * The SDK as a citizen's and an official's client would use it, in a process of its own:
 * `sendDocument` of a 50 MiB file (encrypt for an RSA-3072 key, upload, sha256 check) and
 * `openDocument` (download, sha256 check, decrypt), each as MiB/s of the file, and the
 * client's peak RSS — next to the raw figures for the same container: a plain streaming
 * upload through the gateway (already encrypted) and a PutObject straight to the S3 store.
 */
export async function benchSdk(ctx: BenchContext): Promise<BenchResult[]> {
  const b = 'sdk';
  const bytes = Math.max(1, Math.round(50 * ctx.scale)) * MiB;
  const label = `${bytes / MiB} MiB file`;
  const dir = await mkdtemp(join(tmpdir(), 'dvd-bench-sdk-'));
  try {
    const pair = await generateAuthorityKeyPair({ kidPrefix: `bench-sdk-${randomUUID().slice(0, 8)}` });
    const added = await ctx.api(ctx.authority.adminToken, 'POST', `/authorities/${ctx.authority.id}/keys`, pair.publicJwk);
    if (added.status !== 201) throw new Error(`registering the SDK bench key failed: ${added.status}`);
    const privatePath = join(dir, 'key.jwk');
    await writeFile(privatePath, JSON.stringify(pair.privateJwk), { mode: 0o600 });

    ctx.log(`sdk: send and open a ${label} in a separate client process`);
    const run = await runClient({
      SDK_BENCH_API: ctx.apiUrl,
      SDK_BENCH_BYTES: String(bytes),
      SDK_BENCH_AUTHORITY: ctx.authority.id,
      SDK_BENCH_PUBLIC_JWK: JSON.stringify(pair.publicJwk),
      SDK_BENCH_PRIVATE_JWK: privatePath,
      SDK_BENCH_CITIZEN_TOKEN: await ctx.token({ role: 'citizen', sub: `bench-sdk-${randomUUID().slice(0, 8)}` }),
      SDK_BENCH_OFFICIAL_TOKEN: ctx.authority.officialToken,
    });
    if (!run.identical) throw new Error('the opened file differs from the sent one');
    const sendMiBs = bytes / MiB / (run.sendMs / 1000);
    const openMiBs = bytes / MiB / (run.openMs / 1000);

    // the raw figures for a container of the same size
    const jwe = await ctx.makeJwe(run.containerBytes);
    const token = await ctx.token({ role: 'citizen', sub: `bench-sdk-raw-${randomUUID().slice(0, 8)}` });
    const raw = await ctx.upload({ token, jwe, referenceNumber: 'BENCH-SDK-RAW' });
    if (raw.status !== 201) throw new Error(`raw upload failed: ${raw.status}`);
    const rawMiBs = bytes / MiB / (raw.ms / 1000);
    let directMiBs: number | null = null;
    if (ctx.direct) {
      const s3 = ctx.direct.s3;
      const client = new S3Client({
        endpoint: s3.endpoint,
        region: s3.region,
        forcePathStyle: true,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
        requestChecksumCalculation: 'WHEN_REQUIRED',
      });
      const t = performance.now();
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `bench-sdk/${randomUUID()}`, Body: jwe }));
      directMiBs = bytes / MiB / ((performance.now() - t) / 1000);
      client.destroy();
    }
    const container = `container ${(run.containerBytes / MiB).toFixed(1)} MiB (base64url JWE)`;
    return [
      {
        benchmark: b,
        metric: `SDK send ${label}`,
        value: round(sendMiBs),
        unit: 'MiB/s',
        note: `${round(run.sendMs)} ms: encrypt + upload + sha256 check; ${container}`,
      },
      {
        benchmark: b,
        metric: `SDK open ${label}`,
        value: round(openMiBs),
        unit: 'MiB/s',
        note: `${round(run.openMs)} ms: download + sha256 check + decrypt`,
      },
      {
        benchmark: b,
        metric: 'raw upload of the same container',
        value: round(rawMiBs),
        unit: 'MiB/s',
        note: `${round(raw.ms)} ms: already encrypted, streamed through the gateway`,
      },
      {
        benchmark: b,
        metric: 'direct S3 PUT of the same container',
        value: directMiBs === null ? null : round(directMiBs),
        unit: 'MiB/s',
        note: directMiBs === null ? 'skipped: no direct access' : undefined,
      },
      {
        benchmark: b,
        metric: 'SDK send ÷ raw upload',
        value: ratio(sendMiBs, rawMiBs),
        unit: '×',
        note: 'goal ≥ 0.5 (encryption on the device costs less than the transfer)',
      },
      {
        benchmark: b,
        metric: 'SDK client peak RSS',
        value: round(run.peakRssMiB),
        unit: 'MiB',
        note:
          `growth ${round((run.peakRssMiB - run.rssBeforeMiB) / (bytes / MiB))} × the file over ${round(run.rssBeforeMiB)} MiB before it ` +
          `(while sending ${round((run.sendPeakRssMiB - run.rssBeforeMiB) / (bytes / MiB))} ×); ` +
          'goal: growth ≤ 8 × the file (a compact JWE is built and opened in memory)',
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
