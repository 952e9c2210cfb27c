import amqp from 'amqplib';
import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { DataSource, EntityManager } from 'typeorm';
import { EventEnvelope } from '@dvd/contracts';
import { createTestDatabase, createTestVhost, freePort, pollUntil } from '@dvd/testing';
import { serviceDataSourceOptions } from '../database/database';
import { createLogger } from '../logging/logger';
import { deadLetterController } from './dead-letter.controller';
import { deadLetterTablesSql, outboxTraceContextSql } from './dead-letters';
import { Messaging, UNROUTED_QUEUE } from './messaging';
import { MESSAGING_ENTITIES, messagingTablesSql } from './messaging-tables';

const log = createLogger('messaging-resilience-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const run = promisify(execFile);
const PG_BIN = '/usr/lib/postgresql/15/bin';

/** A private Postgres cluster on a free port, owned by the `postgres` user; only this test stops it. */
async function privatePostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'dvd-pg-'));
  const data = join(dir, 'data');
  const { uid, gid } = await run('id', ['-u', 'postgres']).then(async ({ stdout }) => ({
    uid: Number(stdout.trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
  }));
  chownSync(dir, uid, gid);
  const asPostgres = { uid, gid, env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' } };
  const port = await freePort();
  await run(`${PG_BIN}/initdb`, ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync'], asPostgres);
  const start = () =>
    run(
      `${PG_BIN}/pg_ctl`,
      ['-D', data, '-l', join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-w', 'start'],
      asPostgres,
    );
  const stop = () => run(`${PG_BIN}/pg_ctl`, ['-D', data, '-m', 'immediate', '-w', 'stop'], asPostgres);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    destroy: async () => {
      await stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('Messaging through outages (real RabbitMQ and Postgres)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  const sources: DataSource[] = [];
  const buses: Messaging[] = [];

  async function dataSourceFor(schema: string, url = db.url): Promise<DataSource> {
    const ds = new DataSource(serviceDataSourceOptions({ url, schema, entities: MESSAGING_ENTITIES, migrations: [], poolSize: 2 }));
    await ds.initialize();
    await ds.query(`CREATE SCHEMA "${schema}"`);
    for (const sql of [...messagingTablesSql(schema), ...deadLetterTablesSql(schema), ...outboxTraceContextSql(schema)])
      await ds.query(sql);
    await ds.query(`CREATE TABLE "${schema}".applied (event_id uuid NOT NULL, payload jsonb NOT NULL)`);
    sources.push(ds);
    return ds;
  }

  function bus(service: string, dataSource: DataSource, extra: Partial<ConstructorParameters<typeof Messaging>[0]> = {}) {
    const m = new Messaging({
      amqpUrl: vhost.url,
      service,
      maxDeliveries: 4,
      retryDelaysMs: [50, 100, 200],
      probeDelayMs: { min: 50, max: 200 },
      dataSource,
      log,
      relayIntervalMs: 100,
      ...extra,
    });
    buses.push(m);
    return m;
  }

  const record = async (data: unknown, ctx: { envelope: EventEnvelope; manager: EntityManager }) => {
    await ctx.manager.query(`INSERT INTO applied (event_id, payload) VALUES ($1, $2)`, [ctx.envelope.id, JSON.stringify(data)]);
  };
  const appliedIds = async (ds: DataSource): Promise<string[]> =>
    ((await ds.query(`SELECT event_id FROM applied ORDER BY event_id`)) as Array<{ event_id: string }>).map((r) => r.event_id);
  const deadLetterCount = async (ds: DataSource): Promise<number> => (await ds.query(`SELECT count(*)::int AS n FROM dead_letters`))[0].n;

  let inspect: amqp.ChannelModel;
  let ch: amqp.Channel;

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    inspect = await amqp.connect(vhost.url);
    ch = await inspect.createChannel();
  });

  afterAll(async () => {
    await inspect?.close().catch(() => undefined);
    for (const b of buses) await b.stop();
    for (const s of sources) if (s.isInitialized) await s.destroy().catch(() => undefined);
    await Promise.all([db.drop(), vhost.drop()]);
  });

  it('retries a failing handler with delay until it succeeds, dead-lettering nothing', async () => {
    const [pubDs, ds] = await Promise.all([dataSourceFor('pub_retry'), dataSourceFor('svc_retry')]);
    let attempts = 0;
    let dependencyUp = false;
    const delivered = new Set<string>(); // the event's id, as each attempt saw it
    await bus('svc-retry', ds, { retryDelaysMs: [1_000] })
      .on('thread.claimed', async (data, ctx) => {
        attempts++;
        delivered.add(ctx.envelope.id);
        if (!dependencyUp) throw new Error('dependency down');
        await record(data, ctx);
      })
      .start();
    const publisher = bus('pub-retry', pubDs);
    await publisher.start();
    await publisher.transaction(async (_m, emit) => {
      await emit('thread.claimed', { threadId: randomUUID(), documentId: randomUUID(), officialId: 'o-1' });
    });
    // the failed event waits in the delay queue (not requeued at once, not dead-lettered)
    await pollUntil(async () => (await ch.checkQueue('svc-retry.events.retry.1000')).messageCount === 1, {
      what: 'the event in the delay queue',
      intervalMs: 20,
    });
    dependencyUp = true;
    await pollUntil(async () => (await appliedIds(ds)).length === 1, { what: 'the event applied after the retry' });
    expect(delivered.size).toBe(1);
    expect(await appliedIds(ds)).toEqual([...delivered]);
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(await deadLetterCount(ds)).toBe(0);
  });

  it('keeps an event published before any queue is bound, and delivers it once the consumer starts', async () => {
    const [pubDs, ds] = await Promise.all([dataSourceFor('pub_early'), dataSourceFor('svc_late')]);
    const publisher = bus('pub-early', pubDs);
    await publisher.start();
    // nobody in this vhost subscribes to export.completed yet (intake does, in the platform)
    const data = { jobId: randomUUID(), documentId: randomUUID(), authorityId: 'a-1' };
    await publisher.transaction(async (_m, emit) => emit('export.completed', data));
    // the relay deletes the row only once the event is confirmed in the parking queue
    await pollUntil(async () => (await pubDs.query(`SELECT count(*)::int AS n FROM outbox`))[0].n === 0, { what: 'the outbox emptied' });
    expect((await ch.checkQueue(UNROUTED_QUEUE)).messageCount).toBe(1);

    await bus('svc-late', ds).on('export.completed', record).start();
    await pollUntil(async () => (await appliedIds(ds)).length === 1, { what: 'the early event delivered' });
    expect((await ds.query(`SELECT payload FROM applied`))[0].payload).toEqual(data);
    await pollUntil(async () => (await ch.checkQueue(UNROUTED_QUEUE)).messageCount === 0, { what: 'the parking queue drained' });
  });

  it('does not park an event of a type nobody consumes (EVENT_CONSUMERS), and refuses an unlisted consumer at boot', async () => {
    const pubDs = await dataSourceFor('pub_nobody');
    const publisher = bus('pub-nobody', pubDs);
    await publisher.start();
    await publisher.transaction(async (_m, emit) =>
      emit('message.posted', { messageId: randomUUID(), threadId: randomUUID(), documentId: randomUUID(), senderRole: 'citizen' }),
    );
    // confirmed as returned-and-unwanted: the row goes, and the parking queue stays empty
    await pollUntil(async () => (await pubDs.query(`SELECT count(*)::int AS n FROM outbox`))[0].n === 0, { what: 'the outbox emptied' });
    expect((await ch.checkQueue(UNROUTED_QUEUE)).messageCount).toBe(0);
    expect(() => bus('intake', pubDs).on('message.posted', record)).toThrow(/EVENT_CONSUMERS/);
  });

  it('dead-letters an event that keeps failing without its data in the broker, lists, replays once, and purges with the document', async () => {
    const [pubDs, ds] = await Promise.all([dataSourceFor('pub_dead'), dataSourceFor('svc_dead')]);
    let failing = true;
    const documentId = randomUUID();
    const other = randomUUID();
    const consumer = bus('svc-dead', ds)
      .on('document.received', async (data, ctx) => {
        if (failing) throw new Error(`cannot route ${data.referenceNumber}`);
        await record(data, ctx);
      })
      .on('document.purged', async () => undefined);
    await consumer.start();
    const publisher = bus('pub-dead', pubDs);
    await publisher.start();
    const received = (id: string) => ({
      documentId: id,
      citizenId: 'c-1',
      authorityId: 'a-1',
      documentType: 'BAUANTRAG',
      serviceKey: null,
      regionKey: null,
      referenceNumber: 'AZ-GEHEIM-4711',
      createdAt: new Date().toISOString(),
    });
    await publisher.transaction(async (_m, emit) => {
      await emit('document.received', received(documentId));
      await emit('document.received', received(other));
    });
    await pollUntil(async () => (await deadLetterCount(ds)) === 2, { what: 'two dead letters' });

    // the broker keeps nothing: no dead-letter queue, retry queue or parking queue holds the event
    for (const q of [
      'svc-dead.events',
      'svc-dead.events.dlq',
      'svc-dead.events.retry.50',
      'svc-dead.events.retry.100',
      'svc-dead.events.retry.200',
    ]) {
      expect([q, (await ch.checkQueue(q)).messageCount]).toEqual([q, 0]);
    }
    // the dead letter records ids, reason and attempts; the error message (it quoted the Aktenzeichen) is not kept
    const rows: Array<{ event_id: string; reason: string; detail: string; attempts: number }> = await ds.query(
      `SELECT event_id, reason, detail, attempts FROM dead_letters WHERE document_id = $1`,
      [documentId],
    );
    expect(rows).toEqual([{ event_id: expect.any(String), reason: 'handler-failed', detail: 'Error', attempts: 4 }]);
    expect(JSON.stringify(await ds.query(`SELECT reason, detail, event_type FROM dead_letters`))).not.toContain('AZ-GEHEIM');

    // the admin endpoint's controller lists them (no envelope) and replays one
    const Controller = deadLetterController('svc-dead') as new (m: Messaging) => {
      list(q: unknown): Promise<{ items: Array<Record<string, unknown>>; nextCursor: string | null }>;
      replay(id: string): Promise<unknown>;
      remove(id: string): Promise<void>;
    };
    const api = new Controller(consumer);
    const page1 = await api.list({ limit: '1' });
    expect(page1.items).toHaveLength(1);
    const page2 = await api.list({ limit: '1', cursor: page1.nextCursor });
    expect(page2.items).toHaveLength(1);
    expect(page2.nextCursor).toBeNull();
    expect(JSON.stringify([page1, page2])).not.toContain('AZ-GEHEIM');
    expect(page1.items[0]).toMatchObject({ eventType: 'document.received', reason: 'handler-failed', attempts: 4, replayable: true });

    failing = false;
    const eventId = rows[0].event_id;
    await api.replay(eventId);
    await pollUntil(async () => (await appliedIds(ds)).includes(eventId), { what: 'the replayed event applied' });
    await expect(api.replay(eventId)).rejects.toMatchObject({ status: 404 });
    expect(await appliedIds(ds)).toEqual([eventId]);
    // replay went to this service's queue only, through the outbox, with the same event id
    expect(await ds.query(`SELECT count(*)::int AS n FROM outbox`)).toEqual([{ n: 0 }]);

    // document.purged for the other document deletes its dead letter
    await publisher.transaction(async (_m, emit) => emit('document.purged', { documentId: other, authorityId: 'a-1' }));
    await pollUntil(async () => (await deadLetterCount(ds)) === 0, { what: 'the dead letter purged with its document' });
  });

  it('pauses while its database is down, keeping the events in the queue, and applies them once it answers', async () => {
    const pg = await privatePostgres();
    try {
      const [pubDs, ds] = await Promise.all([dataSourceFor('pub_pause'), dataSourceFor('svc_pause', pg.url)]);
      let failures = 0;
      // a retry would wait ten minutes: the events arrive in time only if the consumer pauses instead
      const consumer = bus('svc-pause', ds, { retryDelaysMs: [600_000], maxDeliveries: 2 });
      consumer.on('thread.claimed', async (data, ctx) => record(data, ctx));
      await consumer.start();
      const original = ds.transaction.bind(ds);
      // count handler transactions that fail (each would be a spent attempt if the consumer did not pause)
      (ds as { transaction: unknown }).transaction = (async (...args: Parameters<DataSource['transaction']>) => {
        try {
          return await (original as (...a: unknown[]) => Promise<unknown>)(...args);
        } catch (err) {
          failures++;
          throw err;
        }
      }) as DataSource['transaction'];
      const publisher = bus('pub-pause', pubDs);
      await publisher.start();

      await pg.stop();
      await publisher.transaction(async (_m, emit) => {
        for (let i = 0; i < 3; i++) await emit('thread.claimed', { threadId: randomUUID(), documentId: randomUUID(), officialId: 'o-1' });
      });
      await pollUntil(async () => consumer.isPaused, { what: 'the consumer paused' });
      expect(failures).toBeGreaterThan(0);
      // held (unacked) or still ready: nothing went to a retry queue or was dead-lettered
      expect((await ch.checkQueue('svc-pause.events.retry.600000')).messageCount).toBe(0);
      expect((await ch.checkQueue('svc-pause.events.dlq')).messageCount).toBe(0);

      await pg.start();
      await pollUntil(async () => (await appliedIds(ds)).length === 3, {
        what: 'all three events applied after the database came back',
        timeoutMs: 30_000,
      });
      expect(consumer.isPaused).toBe(false);
      expect(await deadLetterCount(ds)).toBe(0);
      expect((await ch.checkQueue('svc-pause.events.retry.600000')).messageCount).toBe(0);
      await pollUntil(async () => (await ch.checkQueue('svc-pause.events')).messageCount === 0, { what: 'queue drained' });
    } finally {
      await pg.destroy();
    }
  }, 60_000);
});
