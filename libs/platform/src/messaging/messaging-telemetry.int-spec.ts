import { randomUUID } from 'node:crypto';
import { SpanContext, context, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import amqp from 'amqplib';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { EVENTS_EXCHANGE } from '@dvd/contracts';
import { createTestDatabase, createTestVhost, pollUntil } from '@dvd/testing';
import { serviceDataSourceOptions } from '../database/database';
import { createLogger } from '../logging/logger';
import { deadLetterTablesSql, outboxTraceContextSql } from './dead-letters';
import { Messaging, afterCommit } from './messaging';
import { MESSAGING_ENTITIES, messagingTablesSql } from './messaging-tables';

const log = createLogger('messaging-telemetry-test', process.env.TEST_LOG_LEVEL ?? 'silent');

/**
 * The event bus carries the W3C trace context through the outbox and the broker (ADR 0023)
 * and counts what it does (docs/metrics.md). The SDK runs in this process with an in-memory
 * exporter; the amqplib instrumentation cannot patch modules jest loads, so this checks the
 * platform's own part: the stored traceparent, the message header, the handler's trace, the
 * retry copy. The e2e telemetry spec checks the instrumented whole across processes.
 */
describe('Messaging: trace context and metrics', () => {
  const exporter = new InMemorySpanExporter();
  const sdk = new NodeSDK({
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    textMapPropagator: new W3CTraceContextPropagator(),
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
    resourceDetectors: [],
  });
  const tracer = trace.getTracer('test');
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  let pubDs: DataSource;
  let subDs: DataSource;
  let publisher: Messaging;
  let consumer: Messaging;
  let conn: Awaited<ReturnType<typeof amqp.connect>>;
  const subMetrics = new Registry();
  const pubMetrics = new Registry();
  const seen: Array<{ threadId: string; span: SpanContext | undefined }> = [];
  const failOnce = new Set<string>();
  const tapped: amqp.ConsumeMessage[] = [];

  async function dataSource(schema: string): Promise<DataSource> {
    const ds = new DataSource(serviceDataSourceOptions({ url: db.url, schema, entities: MESSAGING_ENTITIES, migrations: [] }));
    await ds.initialize();
    await ds.query(`CREATE SCHEMA "${schema}"`);
    for (const sql of [...messagingTablesSql(schema), ...deadLetterTablesSql(schema), ...outboxTraceContextSql(schema)])
      await ds.query(sql);
    return ds;
  }

  beforeAll(async () => {
    sdk.start();
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    [pubDs, subDs] = await Promise.all([dataSource('pub'), dataSource('sub')]);
    consumer = new Messaging({
      amqpUrl: vhost.url,
      service: 'sub',
      maxDeliveries: 2,
      retryDelaysMs: [50],
      dataSource: subDs,
      log,
      relayIntervalMs: 100,
      metrics: subMetrics,
    }).on('thread.claimed', async (data) => {
      seen.push({ threadId: data.threadId, span: trace.getActiveSpan()?.spanContext() });
      if (failOnce.delete(data.threadId)) throw new Error('first attempt fails');
    });
    await consumer.start();
    publisher = new Messaging({
      amqpUrl: vhost.url,
      service: 'pub',
      maxDeliveries: 2,
      dataSource: pubDs,
      log,
      relayIntervalMs: 100,
      metrics: pubMetrics,
    });
    await publisher.start();
    // a tap on the exchange: what the broker carries, headers included
    conn = await amqp.connect(vhost.url);
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, EVENTS_EXCHANGE, 'thread.claimed');
    await ch.consume(queue, (m) => m && tapped.push(m), { noAck: true });
  });

  afterAll(async () => {
    await conn?.close();
    await publisher?.stop();
    await consumer?.stop();
    await Promise.all([pubDs?.destroy(), subDs?.destroy()]);
    await Promise.all([db.drop(), vhost.drop()]);
    await sdk.shutdown();
  });

  const claimed = () => ({ threadId: randomUUID(), documentId: randomUUID(), officialId: 'official-1' });

  /** Emits the event inside a span standing for the HTTP request that changed the state; answers that span. */
  async function emitInRequest(data: ReturnType<typeof claimed>): Promise<SpanContext> {
    return tracer.startActiveSpan('request', async (span) => {
      await publisher.transaction(async (_m, emit) => emit('thread.claimed', data));
      span.end();
      return span.spanContext();
    });
  }

  it('publishes the event in the trace of the request that wrote it, and handles it in that trace', async () => {
    const data = claimed();
    const request = await emitInRequest(data);
    await pollUntil(async () => seen.some((s) => s.threadId === data.threadId), { what: 'the event handled' });

    const handled = seen.find((s) => s.threadId === data.threadId)!;
    expect(handled.span?.traceId).toBe(request.traceId);
    // the message carries the request's context, and nothing else of the trace (no tracestate, no baggage)
    const message = tapped.find((m) => JSON.parse(m.content.toString()).data.threadId === data.threadId)!;
    expect(message.properties.headers).toEqual({ traceparent: `00-${request.traceId}-${request.spanId}-01` });
    // the consumer's span is a child of the request's span
    const handleSpan = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === handled.span?.spanId);
    expect(handleSpan?.name).toBe('handle thread.claimed');
    expect(handleSpan?.parentSpanContext?.spanId).toBe(request.spanId);
    expect(handleSpan?.attributes['messaging.message.id']).toBe(JSON.parse(message.content.toString()).id);
  });

  it('keeps the trace through a retry: the second attempt runs in the same trace', async () => {
    const data = claimed();
    failOnce.add(data.threadId);
    const request = await emitInRequest(data);
    await pollUntil(async () => seen.filter((s) => s.threadId === data.threadId).length === 2, { what: 'the retried event handled' });
    const attempts = seen.filter((s) => s.threadId === data.threadId);
    expect(attempts.map((a) => a.span?.traceId)).toEqual([request.traceId, request.traceId]);
    const failed = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === attempts[0].span?.spanId);
    expect(failed?.status.code).toBe(2); // ERROR
    const retried = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === attempts[1].span?.spanId);
    expect(retried?.attributes['dvd.event.attempt']).toBe(2);
  });

  it('stores no trace context when there is no trace', async () => {
    const data = claimed();
    expect(trace.getSpan(context.active())).toBeUndefined();
    await publisher.transaction(async (_m, emit) => emit('thread.claimed', data));
    await pollUntil(async () => seen.some((s) => s.threadId === data.threadId), { what: 'the event handled' });
    const message = tapped.find((m) => JSON.parse(m.content.toString()).data.threadId === data.threadId)!;
    expect(message.properties.headers ?? {}).toEqual({});
    // handled in a trace of its own (the handler's span is a root)
    const handled = seen.find((s) => s.threadId === data.threadId)!;
    const span = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === handled.span?.spanId);
    expect(span?.parentSpanContext).toBeUndefined();
  });

  it('runs afterCommit callbacks once the transaction committed, never after a rollback', async () => {
    const ran: string[] = [];
    await publisher.transaction(async (manager) => afterCommit(manager, () => ran.push('committed')));
    await expect(
      publisher.transaction(async (manager) => {
        afterCommit(manager, () => ran.push('rolled back'));
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(ran).toEqual(['committed']);
    expect(() => afterCommit(pubDs.manager, () => undefined)).toThrow(/afterCommit needs a transaction/);
  });

  it('counts published, consumed, redelivered and dead-lettered events, and reads the outbox and dead letters at scrape time', async () => {
    // a malformed message goes straight to dead_letters
    const ch = await conn.createConfirmChannel();
    ch.publish(EVENTS_EXCHANGE, 'thread.claimed', Buffer.from('{not json'), { messageId: randomUUID(), type: 'thread.claimed' });
    await ch.waitForConfirms();
    await ch.close();
    const sample = async (registry: Registry, name: string, labels: Record<string, string> = {}) => {
      const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
      const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
      return value?.value;
    };
    await pollUntil(async () => (await sample(subMetrics, 'dvd_dead_letters', { queue: 'sub.events' })) === 1, {
      what: 'the malformed message in dead_letters',
    });
    expect(await sample(subMetrics, 'dvd_events_dead_lettered_total', { queue: 'sub.events', reason: 'malformed' })).toBe(1);
    expect(await sample(subMetrics, 'dvd_events_dead_lettered_total', { queue: 'sub.events', reason: 'handler-failed' })).toBe(0);
    expect(await sample(subMetrics, 'dvd_events_consumed_total', { event_type: 'thread.claimed', outcome: 'applied' })).toBe(3);
    expect(await sample(subMetrics, 'dvd_events_consumed_total', { event_type: 'thread.claimed', outcome: 'failed' })).toBe(1);
    expect(await sample(subMetrics, 'dvd_events_consumed_total', { event_type: 'thread.claimed', outcome: 'duplicate' })).toBe(0);
    expect(await sample(subMetrics, 'dvd_events_redelivered_total', { queue: 'sub.events', cause: 'retry' })).toBe(1);
    expect(await sample(pubMetrics, 'dvd_events_published_total', { event_type: 'thread.claimed' })).toBe(3);

    // outbox lag: a row the relay cannot send (its target queue does not exist) waits, and ages
    await pubDs.query(
      `INSERT INTO outbox (id, type, data, occurred_at, correlation_id, target_queue, created_at)
       VALUES ($1, 'thread.claimed', '{}', now(), 'c', 'no-such-queue', now() - interval '90 seconds')`,
      [randomUUID()],
    );
    expect(await sample(pubMetrics, 'dvd_outbox_pending_events')).toBe(1);
    expect(await sample(pubMetrics, 'dvd_outbox_oldest_event_age_seconds')).toBeGreaterThanOrEqual(90);
    expect(await sample(subMetrics, 'dvd_outbox_oldest_event_age_seconds')).toBe(0);
  });
});
