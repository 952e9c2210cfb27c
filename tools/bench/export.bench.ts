import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Client } from 'pg';
import type { BenchContext, BenchResult, Benchmark } from './types';
import { round } from './util';

/**
 * Export of a 50 MiB case with 1,000 messages: time from POST /exports to COMPLETED and
 * the export worker's peak RSS growth (the package is built in a temporary file and
 * streamed twice — signature, then body — so memory should stay flat).
 */
export const benchExport: Benchmark = async (ctx: BenchContext): Promise<BenchResult[]> => {
  if (!ctx.direct)
    return [{ benchmark: 'export', metric: 'export', value: null, note: 'needs direct database access (not with BENCH_GATEWAY_URL)' }];
  const pid = ctx.pidOf('export-worker');
  let received = 0;
  const receiver = createServer((req, res) => {
    req.on('data', (c: Buffer) => (received += c.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const sql = new Client({ connectionString: ctx.direct.databaseUrl });
  await sql.connect();
  try {
    const { adminToken, officialToken, id: authorityId } = ctx.authority;
    const patched = await ctx.api(adminToken, 'PATCH', `/authorities/${authorityId}`, {
      ingestUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/ingest`,
    });
    if (patched.status !== 200) throw new Error(`ingestUrl not set: ${patched.status}`);

    const mib = ctx.scaled(50, 5);
    const citizenToken = await ctx.token({ role: 'citizen', sub: `export-bench-${Date.now()}` });
    const upload = await ctx.upload({ token: citizenToken, jwe: await ctx.makeJwe(mib * 1024 * 1024), timeoutMs: 300_000 });
    if (upload.status !== 201 || !upload.id) throw new Error(`upload answered ${upload.status}`);
    const thread = await ctx.api<{ id: string }>(citizenToken, 'POST', `/documents/${upload.id}/threads`, { type: 'CHAT' });
    const blob = (await ctx.makeJwe(400)).toString();
    const messages = ctx.scaled(1000, 100);
    await sql.query(
      `INSERT INTO communication.messages (id, thread_id, sender_id, sender_role, content_blob, created_at)
       SELECT gen_random_uuid(), $1, 'bench', CASE WHEN g % 2 = 0 THEN 'citizen' ELSE 'official' END, $2, now() - (g * interval '1 second')
         FROM generate_series(1, $3) g`,
      [thread.body.id, blob, messages],
    );

    const sampler = pid ? ctx.rssSampler({ 'export-worker': pid }, 50) : null;
    const started = performance.now();
    const job = await ctx.api<{ jobId: string }>(officialToken, 'POST', '/exports', { documentId: upload.id });
    if (job.status !== 202) throw new Error(`export answered ${job.status}`);
    let status = 'PENDING';
    let attempts = 0;
    while (status !== 'COMPLETED' && status !== 'FAILED') {
      await new Promise((r) => setTimeout(r, 100));
      const got = await ctx.api<{ status: string; attempts: number }>(officialToken, 'GET', `/exports/${job.body.jobId}`);
      status = got.body.status;
      attempts = got.body.attempts;
      if (performance.now() - started > 300_000) throw new Error('export did not finish in 5 minutes');
    }
    const seconds = (performance.now() - started) / 1000;
    const rss = sampler?.stop()['export-worker'];
    return [
      {
        benchmark: 'export',
        metric: `export of ${mib} MiB + ${messages} messages: time to ${status}`,
        value: round(seconds),
        unit: 's',
        note: `${attempts} attempt(s), ${round(received / 1024 / 1024)} MiB delivered`,
      },
      {
        benchmark: 'export',
        metric: 'export worker peak RSS',
        value: rss ? round(rss.peakMiB) : null,
        unit: 'MiB',
        note: rss ? `baseline ${round(rss.baselineMiB)} MiB` : 'pid unknown',
      },
      { benchmark: 'export', metric: 'export worker RSS growth', value: rss ? round(rss.growthMiB) : null, unit: 'MiB' },
    ];
  } finally {
    receiver.close();
    await sql.end();
  }
};
