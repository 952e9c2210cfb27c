import amqp from 'amqplib';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EVENTS_EXCHANGE, EventEnvelope } from '@dvd/contracts';
import { createTestDatabase, createTestVhost, pollUntil, queueSettled } from '@dvd/testing';
import { serviceDataSourceOptions } from '../database/database';
import { createLogger } from '../logging/logger';
import { Messaging, enqueueEvent } from './messaging';
import { deadLetterTablesSql, outboxTraceContextSql } from './dead-letters';
import { MESSAGING_ENTITIES, messagingTablesSql } from './messaging-tables';

const log = createLogger('messaging-test', process.env.TEST_LOG_LEVEL ?? 'silent');

describe('Messaging over the real RabbitMQ and Postgres', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  const sources: DataSource[] = [];
  const byName: Record<string, DataSource> = {};
  const buses: Messaging[] = [];

  async function dataSourceFor(schema: string): Promise<DataSource> {
    const ds = new DataSource(serviceDataSourceOptions({ url: db.url, schema, entities: MESSAGING_ENTITIES, migrations: [] }));
    await ds.initialize();
    const exists: unknown[] = await ds.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = $1`, [schema]);
    if (!exists.length) {
      await ds.query(`CREATE SCHEMA "${schema}"`);
      for (const sql of [...messagingTablesSql(schema), ...deadLetterTablesSql(schema), ...outboxTraceContextSql(schema)])
        await ds.query(sql);
      await ds.query(`CREATE TABLE "${schema}".applied (event_id uuid NOT NULL, payload jsonb NOT NULL)`);
    }
    sources.push(ds);
    byName[schema] = ds;
    return ds;
  }

  function bus(service: string, dataSource: DataSource, extra: Partial<ConstructorParameters<typeof Messaging>[0]> = {}) {
    const m = new Messaging({
      amqpUrl: vhost.url,
      service,
      maxDeliveries: 3,
      retryDelaysMs: [50, 100],
      dataSource,
      log,
      relayIntervalMs: 100,
      ...extra,
    });
    buses.push(m);
    return m;
  }

  const applied = async (ds: DataSource) =>
    ds.query(`SELECT event_id, payload FROM applied ORDER BY payload->>'threadId'`) as Promise<
      Array<{ event_id: string; payload: { threadId: string } }>
    >;

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
  });

  afterAll(async () => {
    for (const b of buses) await b.stop();
    for (const s of sources) if (s.isInitialized) await s.destroy();
    await Promise.all([db.drop(), vhost.drop()]);
  });

  function claimed(threadId = randomUUID()) {
    return { threadId, documentId: randomUUID(), officialId: 'official-1' };
  }

  /** A running bus of its own service and schema that records the thread ids of the claims it is handed, in order. */
  async function claimRecorder(service: string, schema: string): Promise<string[]> {
    const received: string[] = [];
    await bus(service, await dataSourceFor(schema))
      .on('thread.claimed', async (data) => {
        received.push(data.threadId);
      })
      .start();
    return received;
  }

  function envelopeOf(data: ReturnType<typeof claimed>) {
    return { id: randomUUID(), type: 'thread.claimed', occurredAt: new Date().toISOString(), correlationId: 'c', causationId: null, data };
  }

  it('fans one event out to every subscribed service, each applying it once', async () => {
    const [pubDs, aDs, bDs] = await Promise.all([dataSourceFor('pub'), dataSourceFor('svc_a'), dataSourceFor('svc_b')]);
    const record = async (data: unknown, ctx: { envelope: EventEnvelope; manager: import('typeorm').EntityManager }) => {
      await ctx.manager.query(`INSERT INTO applied (event_id, payload) VALUES ($1, $2)`, [ctx.envelope.id, JSON.stringify(data)]);
    };
    await bus('svc-a', aDs).on('thread.claimed', record).start();
    await bus('svc-b', bDs).on('thread.claimed', record).start();
    const publisher = bus('pub', pubDs);
    await publisher.start();

    const payload = claimed();
    await publisher.transaction(async (_m, emit) => emit('thread.claimed', payload));

    await pollUntil(async () => (await applied(aDs)).length === 1 && (await applied(bDs)).length === 1, {
      what: 'both services applying the event',
    });
    expect((await applied(aDs))[0].payload).toEqual(payload);
    expect((await applied(bDs))[0].payload).toEqual(payload);
    // the relay deletes an outbox row only after the broker confirmed it
    expect(await pubDs.query('SELECT count(*)::int AS n FROM outbox')).toEqual([{ n: 0 }]);
  });

  it('applies a redelivered event once', async () => {
    const aDs = byName.svc_a;
    const before = (await applied(aDs)).length;
    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createConfirmChannel();
    const envelope = {
      id: randomUUID(),
      type: 'thread.claimed',
      occurredAt: new Date().toISOString(),
      correlationId: 'c',
      causationId: null,
      data: claimed(),
    };
    for (let i = 0; i < 3; i++) ch.publish(EVENTS_EXCHANGE, 'thread.claimed', Buffer.from(JSON.stringify(envelope)), { persistent: true });
    await ch.waitForConfirms();
    await pollUntil(async () => (await applied(aDs)).length === before + 1, {
      what: 'the event applied',
      timeoutMs: 30_000,
      diagnose: async () => {
        const q = await ch.checkQueue('svc-a.events');
        const seen = await aDs.query('SELECT count(*)::int AS n FROM processed_events WHERE event_id = $1', [envelope.id]);
        return `queue ready=${q.messageCount} consumers=${q.consumerCount} processed=${seen[0].n} applied=${(await applied(aDs)).length} before=${before}`;
      },
    });
    // barrier: all three copies handled and acked (a delivery is acked after its transaction), none ready, none unacked
    await queueSettled(vhost.name, 'svc-a.events');
    await conn.close();
    expect((await applied(aDs)).filter((r) => r.event_id === envelope.id)).toHaveLength(1);
  });

  it('dead-letters a poison message into the table after EVENT_MAX_DELIVERIES attempts while the queue keeps flowing', async () => {
    const ds = await dataSourceFor('svc_c');
    const poisonThread = randomUUID();
    let poisonAttempts = 0;
    await bus('svc-c', ds)
      .on('thread.claimed', async (data, ctx) => {
        if (data.threadId === poisonThread) {
          poisonAttempts++;
          throw new Error('cannot handle this one');
        }
        await ctx.manager.query(`INSERT INTO applied (event_id, payload) VALUES ($1, $2)`, [ctx.envelope.id, JSON.stringify(data)]);
      })
      .start();
    const publisher = bus('pub2', byName.pub);
    await publisher.start();
    await publisher.transaction(async (_m, emit) => {
      await emit('thread.claimed', claimed(poisonThread));
      for (let i = 0; i < 5; i++) await emit('thread.claimed', claimed());
    });
    // a malformed message is dead-lettered at once, without retries, and its body is not kept
    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createConfirmChannel();
    ch.publish(EVENTS_EXCHANGE, 'thread.claimed', Buffer.from('{not json'), { persistent: true, messageId: 'not-a-uuid' });
    await ch.waitForConfirms();

    await pollUntil(async () => (await applied(ds)).length === 5, { what: 'the healthy events' });
    const dead = await pollUntil(
      async () => {
        const rows: Array<{ reason: string; attempts: number; envelope: unknown; thread: string | null }> = await ds.query(
          `SELECT reason, attempts, envelope, envelope->'data'->>'threadId' AS thread FROM dead_letters ORDER BY reason`,
        );
        return rows.length === 2 ? rows : null;
      },
      { what: 'two dead letters' },
    );
    expect(dead).toEqual([
      { reason: 'handler-failed', attempts: 3, envelope: expect.any(Object), thread: poisonThread },
      { reason: 'malformed', attempts: 1, envelope: null, thread: null },
    ]);
    expect(poisonAttempts).toBe(3);
    for (const q of ['svc-c.events', 'svc-c.events.dlq', 'svc-c.events.retry.50', 'svc-c.events.retry.100']) {
      expect([q, (await ch.checkQueue(q)).messageCount]).toEqual([q, 0]);
    }
    await conn.close();
  });

  it('publishes an event committed before a crash once the relay runs again', async () => {
    const received = await claimRecorder('svc-d', 'svc_d');
    const crashedDs = await dataSourceFor('crashy');
    const crashed = bus('crashy', crashedDs, { relayEnabled: false });
    await crashed.start();
    const payload = claimed();
    await crashed.transaction(async (_m, emit) => emit('thread.claimed', payload));
    await crashed.stop(); // the process "dies" after commit, before publishing
    expect(await crashedDs.query('SELECT count(*)::int AS n FROM outbox')).toEqual([{ n: 1 }]);
    // barrier: a marker published after the stop; once it is handled and the queue is settled,
    // anything the stopped bus had published would have been handled too
    const marker = claimed();
    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createConfirmChannel();
    ch.publish(EVENTS_EXCHANGE, 'thread.claimed', Buffer.from(JSON.stringify(envelopeOf(marker))), { persistent: true });
    await ch.waitForConfirms();
    await conn.close();
    await pollUntil(async () => received.includes(marker.threadId), { what: 'the marker event' });
    await queueSettled(vhost.name, 'svc-d.events');
    expect(received).toEqual([marker.threadId]);

    const restarted = bus('crashy', crashedDs);
    await restarted.start();
    await pollUntil(async () => received.includes(payload.threadId), { what: 'the event after restart' });
    await pollUntil(async () => (await crashedDs.query('SELECT count(*)::int AS n FROM outbox'))[0].n === 0, { what: 'outbox emptied' });
  });

  it('relays a transaction of more events than one batch at once, and finds a row no commit announced at the next poll', async () => {
    const received = await claimRecorder('svc-e', 'svc_e');
    // batches of two and no poll for a minute: only full batches going on relay all five now
    const batchedDs = await dataSourceFor('batched');
    const batched = bus('batched', batchedDs, { relayBatchSize: 2, relayIntervalMs: 60_000 });
    await batched.start();
    const five = Array.from({ length: 5 }, () => claimed());
    await batched.transaction(async (_m, emit) => {
      for (const payload of five) await emit('thread.claimed', payload);
    });
    await pollUntil(async () => five.every((p) => received.includes(p.threadId)), { what: 'five events relayed in batches of two' });
    expect(await batchedDs.query('SELECT count(*)::int AS n FROM outbox')).toEqual([{ n: 0 }]);

    // a row written by a transaction of its own (no kick): the periodic poll sees it is due and relays it
    const polledDs = await dataSourceFor('polled');
    await bus('polled', polledDs).start();
    const quiet = claimed();
    await polledDs.transaction((manager) => enqueueEvent(manager, 'thread.claimed', quiet));
    await pollUntil(async () => received.includes(quiet.threadId), { what: 'the unannounced event relayed by the poll' });
    await pollUntil(async () => (await polledDs.query('SELECT count(*)::int AS n FROM outbox'))[0].n === 0, { what: 'outbox emptied' });
  });
});
