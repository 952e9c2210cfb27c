import { Client } from 'pg';
import type { BenchContext, BenchResult, Benchmark } from './types';
import { percentile, round } from './util';

const PAGE = 20;

/**
 * Message paging (newest first, cursor towards older) for a thread of 100 messages while
 * the messages table holds 10 k and then 1 M rows in other threads. Filler rows are
 * inserted with SQL (generate_series) to reach those sizes quickly; the timed requests go
 * through the gateway. The plan of the page query is recorded to show the index is used.
 */
export const benchMessagePaging: Benchmark = async (ctx: BenchContext): Promise<BenchResult[]> => {
  if (!ctx.direct)
    return [
      { benchmark: 'paging', metric: 'message paging', value: null, note: 'needs direct database access (not with BENCH_GATEWAY_URL)' },
    ];
  const { sample, officialToken } = ctx.authority;
  const thread = await ctx.api<{ id: string }>(sample.citizenToken, 'POST', `/documents/${sample.documentId}/threads`, { type: 'CHAT' });
  if (thread.status !== 201) throw new Error(`thread not created: ${thread.status}`);
  const threadId = thread.body.id;
  const blob = (await ctx.makeJwe(300)).toString();

  const sql = new Client({ connectionString: ctx.direct.databaseUrl });
  await sql.connect();
  try {
    // the measured thread: 100 messages
    await sql.query(
      `INSERT INTO communication.messages (id, thread_id, sender_id, sender_role, content_blob, created_at)
       SELECT gen_random_uuid(), $1, 'bench', 'citizen', $2, now() - (g * interval '1 second') FROM generate_series(1, 100) g`,
      [threadId, blob],
    );
    // filler threads on the same document, to hold the other messages
    const fillerThreads = 1000;
    await sql.query(
      `INSERT INTO communication.threads (id, document_id, citizen_id, authority_id, type, created_by)
       SELECT gen_random_uuid(), $1, 'bench', $2, 'CHAT', 'bench' FROM generate_series(1, $3)`,
      [sample.documentId, ctx.authority.id, fillerThreads],
    );
    const fillerIds: string[] = (await sql.query(`SELECT id FROM communication.threads WHERE created_by = 'bench'`)).rows.map(
      (r: { id: string }) => r.id,
    );
    const fill = async (target: number) => {
      const have = Number((await sql.query(`SELECT count(*)::int AS n FROM communication.messages`)).rows[0].n);
      const missing = target - have;
      for (let done = 0; done < missing; done += 100_000) {
        const n = Math.min(100_000, missing - done);
        await sql.query(
          `INSERT INTO communication.messages (id, thread_id, sender_id, sender_role, content_blob, created_at)
           SELECT gen_random_uuid(), ($3::uuid[])[1 + g % array_length($3::uuid[], 1)], 'bench', 'citizen', $1, now() - (g * interval '1 millisecond')
             FROM generate_series(1, $2) g`,
          ['x'.repeat(200), n, fillerIds],
        );
      }
      await sql.query('ANALYZE communication.messages');
    };

    const measure = async (label: string): Promise<BenchResult[]> => {
      const timings: number[] = [];
      const rounds = ctx.scaled(50, 10);
      for (let r = 0; r < rounds; r++) {
        let cursor: string | null = null;
        do {
          const path: string = `/threads/${threadId}/messages?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
          const started = performance.now();
          const page: { status: number; body: { items: unknown[]; nextCursor: string | null } } = await ctx.api<{
            items: unknown[];
            nextCursor: string | null;
          }>(officialToken, 'GET', path);
          timings.push(performance.now() - started);
          if (page.status !== 200) throw new Error(`page answered ${page.status}`);
          cursor = page.body.nextCursor;
        } while (cursor);
      }
      const plan = (
        await sql.query(
          `EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM communication.messages WHERE thread_id = $1
             AND (created_at, id) < (now(), '00000000-0000-0000-0000-000000000000'::uuid) ORDER BY created_at DESC, id DESC LIMIT ${PAGE + 1}`,
          [threadId],
        )
      ).rows.map((r: Record<string, string>) => r['QUERY PLAN']);
      const indexUsed = plan.some((l: string) => l.includes('messages_thread_created_idx'));
      const total = Number((await sql.query(`SELECT count(*)::int AS n FROM communication.messages`)).rows[0].n);
      return [
        {
          benchmark: 'paging',
          metric: `page of ${PAGE}, table ${label}: p50`,
          value: round(percentile(timings, 50)),
          unit: 'ms',
          note: `${timings.length} pages, ${total} rows`,
        },
        { benchmark: 'paging', metric: `page of ${PAGE}, table ${label}: p99`, value: round(percentile(timings, 99)), unit: 'ms' },
        {
          benchmark: 'paging',
          metric: `table ${label}: index used`,
          value: indexUsed ? 'yes (messages_thread_created_idx)' : 'NO',
          details: { plan },
        },
      ];
    };

    const small = ctx.scaled(10_000, 1_000);
    const large = ctx.scaled(1_000_000, 20_000);
    await fill(small);
    const results = await measure(small >= 1_000_000 ? '1 M' : `${small / 1000} k`);
    ctx.log(`paging: filling the messages table to ${large} rows`);
    await fill(large);
    results.push(...(await measure(large >= 1_000_000 ? `${large / 1_000_000} M` : `${large / 1000} k`)));
    return results;
  } finally {
    await sql.end();
  }
};
