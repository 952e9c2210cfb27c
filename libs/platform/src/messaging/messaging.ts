import { randomUUID } from 'node:crypto';
import { Context, ROOT_CONTEXT, SpanStatusCode, context, trace } from '@opentelemetry/api';
import amqp, { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConfirmChannel, ConsumeMessage, Message, Options } from 'amqplib';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { DataSource, EntityManager } from 'typeorm';
import { EVENTS_EXCHANGE, EVENT_CONSUMERS, EventEnvelope, EventMap, EventType, SERVICES, parseEnvelope } from '@dvd/contracts';
import { isConnectionError } from './connection-errors';
import {
  activeTraceparent,
  contextOfTraceparent,
  publishInRememberedContext,
  traceHeaders,
  withPublishContext,
} from '../telemetry/trace-context';
import { DeadLetterInput, DeadLetterStore, deadLetterKey, documentIdOf } from './dead-letters';
import { MessagingMetrics } from './messaging-metrics';
import { DEFAULT_RETRY_DELAYS_MS, RetrySchedule } from './retry-schedule';

export const DEAD_LETTER_EXCHANGE = 'dvd.dlx';
/** Where the relay parks an event that no queue was bound for; drained by each consumer at start. */
export const UNROUTED_QUEUE = 'dvd.unrouted';
/** How long a parked event waits for a consumer before the broker drops it (types nobody subscribes to end there). */
export const UNROUTED_TTL_MS = 3 * 24 * 3600_000;
const UNROUTED_MAX_LENGTH = 1_000_000;

const ATTEMPTS_HEADER = 'x-dvd-attempts';
const FIRST_FAILED_HEADER = 'x-dvd-first-failed-at';
const PARKED_AT_HEADER = 'x-dvd-parked-at';
/** Outbox rows one relay transaction takes. */
const DEFAULT_RELAY_BATCH_SIZE = 100;

export interface MessagingOptions {
  amqpUrl: string;
  /**
   * Service name; its queue is `<service>.events`, its delay queues `<service>.events.retry.<ms>`,
   * the broker's dead-letter queue `<service>.events.dlq` (drained into `<schema>.dead_letters`).
   */
  service: string;
  /** Handler attempts of one event (first delivery + retries) before it is dead-lettered. */
  maxDeliveries: number;
  /** Delay before retry n (the last repeats); default {@link DEFAULT_RETRY_DELAYS_MS}. */
  retryDelaysMs?: readonly number[];
  dataSource: DataSource;
  log: Logger;
  prefetch?: number;
  relayIntervalMs?: number;
  relayBatchSize?: number;
  /** For tests that simulate a crash between commit and publish. */
  relayEnabled?: boolean;
  /** Backoff of the database probe while the consumer is paused (default 250 ms doubling to 10 s). */
  probeDelayMs?: { min: number; max: number };
  /** The service's metrics registry (outbox lag, consumed, redelivered and dead-lettered events). */
  metrics?: Registry;
}

export interface EventContext<K extends EventType> {
  envelope: EventEnvelope<K>;
  manager: EntityManager;
  /** Emits a follow-up event in the same transaction (correlation carried over). */
  emit: Emitter;
}

export type EventHandler<K extends EventType> = (data: EventMap[K], ctx: EventContext<K>) => Promise<void>;
export type Emitter = <K extends EventType>(type: K, data: EventMap[K]) => Promise<void>;

interface OutboxRow {
  id: string;
  type: string;
  data: unknown;
  occurred_at: Date;
  correlation_id: string;
  causation_id: string | null;
  target_queue: string | null;
  attempts: number;
  traceparent: string | null;
}

/** A delivery and the channel generation it arrived on (its tag is void on a later channel). */
interface Delivery {
  msg: ConsumeMessage;
  generation: number;
  run: (d: Delivery) => Promise<void>;
  /** The trace context it arrived in (the consumer span), for a run after a pause. */
  ctx: Context;
}

const tracer = trace.getTracer('dvd-messaging');

/** Callbacks to run once the transaction of an EntityManager has committed (see {@link afterCommit}). */
const commitHooks = new WeakMap<EntityManager, Array<() => void>>();

/**
 * Runs `fn` after the transaction `manager` belongs to has committed, and never if it rolls
 * back: for counters of what a transaction did. Only inside `messaging.transaction` and event
 * handlers.
 */
export function afterCommit(manager: EntityManager, fn: () => void): void {
  const hooks = commitHooks.get(manager);
  if (!hooks) throw new Error('afterCommit needs a transaction of Messaging (messaging.transaction or an event handler)');
  hooks.push(fn);
}

function runCommitHooks(hooks: Array<() => void>): void {
  for (const hook of hooks) {
    try {
      hook();
    } catch {
      // a counter must not turn a committed transaction into an error
    }
  }
}

class ReturnedError extends Error {
  override name = 'ReturnedError';
}

/**
 * The event bus of one service.
 *
 * - Outbox + relay: events are written in the same transaction as the state change and
 *   published with publisher confirms and `mandatory`; a row is deleted only after its
 *   confirm. An event no queue is bound for comes back (`basic.return`) and is parked in
 *   `dvd.unrouted` (confirmed, then deleted); each consumer re-publishes parked events of
 *   its types once its bindings exist.
 * - Consumer: applies each event once (processed-event ids in the handler's transaction),
 *   acks after commit. A failed handler is retried after a delay (per-delay quorum queues
 *   whose TTL dead-letters back into the main queue), `maxDeliveries` attempts in all; then
 *   the event goes into `<schema>.dead_letters`. When the database is unreachable the
 *   consumer pauses (cancels its consumers, holds its unacked deliveries) and probes the
 *   database with backoff instead of spending retries.
 */
export class Messaging {
  private readonly handlers = new Map<EventType, EventHandler<EventType>>();
  private readonly schedule: RetrySchedule;
  private connection?: AmqpConnectionManager;
  private publisher?: ChannelWrapper;
  private consumer?: ChannelWrapper;
  private relayTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private relayRunning = false;
  private relayAgain = false;
  private stopped = false;
  private readonly stopping = new AbortController();
  private inFlight = new Set<Promise<unknown>>();
  /** Message ids the broker returned as unroutable (basic.return precedes the confirm). */
  private readonly returned = new Set<string>();
  private generation = 0;
  private consumerTags: string[] = [];
  private paused = false;
  private held: Delivery[] = [];
  readonly deadLetters: DeadLetterStore;
  private readonly metrics: MessagingMetrics;

  constructor(private readonly o: MessagingOptions) {
    this.schedule = new RetrySchedule(o.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS, o.maxDeliveries);
    this.deadLetters = new DeadLetterStore(o.dataSource);
    this.metrics = new MessagingMetrics(o.metrics, this.queueName, o.dataSource);
  }

  get service() {
    return this.o.service;
  }
  get queueName() {
    return `${this.o.service}.events`;
  }
  get deadLetterQueueName() {
    return `${this.queueName}.dlq`;
  }
  retryQueueName(delayMs: number) {
    return `${this.queueName}.retry.${delayMs}`;
  }
  /** True while the consumer waits for its database to answer again. */
  get isPaused() {
    return this.paused;
  }

  /**
   * Registers the handler for one event type; call before `start()`. A service's handlers
   * are declared with `@Consumes` and registered by the platform at boot; one per type.
   */
  on<K extends EventType>(type: K, handler: EventHandler<K>): this {
    // the platform's services must be listed as consumers in the contract (docs/events.md)
    if ((SERVICES as readonly string[]).includes(this.o.service) && !EVENT_CONSUMERS[type].includes(this.o.service)) {
      throw new Error(`${this.o.service} consumes ${type}, but EVENT_CONSUMERS in libs/contracts does not list it`);
    }
    if (this.connection) throw new Error(`Handler for ${type} registered after the consumer started; register handlers before start()`);
    if (this.handlers.has(type))
      throw new Error(`Event ${type} already has a handler in ${this.o.service}; a service handles an event type once`);
    this.handlers.set(type, handler as unknown as EventHandler<EventType>);
    return this;
  }

  isConnected(): boolean {
    return this.connection?.isConnected() ?? false;
  }

  async start(): Promise<void> {
    const { log } = this.o;
    this.connection = amqp.connect([this.o.amqpUrl], { heartbeatIntervalInSeconds: 10, reconnectTimeInSeconds: 1 });
    this.connection.on('disconnect', ({ err }) => log.warn({ err: err?.message }, 'amqp disconnected'));
    let connectedBefore = false;
    this.connection.on('connect', () => {
      log.info('amqp connected');
      // rows that waited out the outage in backoff go now, not up to a minute later
      if (connectedBefore) void this.retryOutboxNow().catch(() => undefined);
      connectedBefore = true;
    });
    this.publisher = this.connection.createChannel({
      confirm: true,
      setup: async (ch: ConfirmChannel) => {
        publishInRememberedContext(ch);
        ch.on('return', (m: Message) => this.noteReturned(m));
        await ch.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
        await assertUnroutedQueue(ch);
      },
    });
    await this.publisher.waitForConnect();
    this.metrics.initialise([...this.handlers.keys()]);
    if (this.handlers.size > 0) await this.startConsumer();
    if (this.o.relayEnabled !== false) this.scheduleRelay(0);
    this.pruneTimer = setInterval(() => void this.pruneProcessed().catch(() => undefined), 60 * 60_000);
    this.pruneTimer.unref();
  }

  /**
   * Forgets processed event ids after a week: redeliveries come within minutes, and the
   * table must not grow forever.
   */
  async pruneProcessed(olderThan = '7 days'): Promise<void> {
    await this.o.dataSource.query(`DELETE FROM processed_events WHERE processed_at < now() - $1::interval`, [olderThan]);
  }

  private noteReturned(m: Message) {
    const id = m.properties.messageId as unknown;
    if (typeof id === 'string') this.returned.add(id);
    this.o.log.info(
      { eventId: id, eventType: m.properties.type as unknown, reason: (m.fields as { replyText?: string }).replyText },
      'event returned unroutable',
    );
  }

  private async startConsumer(): Promise<void> {
    const queue = this.queueName;
    const dlq = this.deadLetterQueueName;
    const types = [...this.handlers.keys()];
    const delays = this.schedule.distinctDelays();
    this.consumer = this.connection!.createChannel({
      confirm: true,
      setup: async (ch: ConfirmChannel) => {
        this.generation++;
        this.held = []; // deliveries of the old channel come again on this one
        publishInRememberedContext(ch);
        ch.on('return', (m: Message) => this.noteReturned(m));
        await ch.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
        await ch.assertExchange(DEAD_LETTER_EXCHANGE, 'direct', { durable: true });
        await ch.assertQueue(dlq, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
        await ch.bindQueue(dlq, DEAD_LETTER_EXCHANGE, dlq);
        await ch.assertQueue(queue, {
          durable: true,
          arguments: {
            'x-queue-type': 'quorum',
            // a copy that keeps coming back without an ack or nack (the process dies while
            // handling it) is dead-lettered by the broker after this many returns
            'x-delivery-limit': Math.max(0, this.o.maxDeliveries - 1),
            'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
            'x-dead-letter-routing-key': dlq,
          },
        });
        for (const delay of delays) {
          await ch.assertQueue(this.retryQueueName(delay), {
            durable: true,
            arguments: {
              'x-queue-type': 'quorum',
              'x-message-ttl': delay,
              // expired copies go back to the main queue through the default exchange
              'x-dead-letter-exchange': '',
              'x-dead-letter-routing-key': queue,
              'x-dead-letter-strategy': 'at-least-once',
              'x-overflow': 'reject-publish',
            },
          });
        }
        for (const type of types) await ch.bindQueue(queue, EVENTS_EXCHANGE, type);
        await assertUnroutedQueue(ch);
        // in the background: a start never waits for the parking queue
        void this.drainUnrouted(ch, new Set<string>(types)).catch((err: unknown) =>
          this.o.log.warn({ errorName: (err as Error)?.name }, 'parked events not drained; next start tries again'),
        );
      },
    });
    await this.consumer.waitForConnect();
    await this.consume();
  }

  private async consume(): Promise<void> {
    const consumer = this.consumer!;
    const prefetch = this.o.prefetch ?? 10;
    const main = await consumer.consume(
      this.queueName,
      (msg) => {
        this.countRedelivery(msg);
        this.deliver(msg, (d) => this.handle(d));
      },
      { noAck: false, prefetch },
    );
    const dead = await consumer.consume(this.deadLetterQueueName, (msg) => this.deliver(msg, (d) => this.handleBrokerDeadLetter(d)), {
      noAck: false,
      prefetch,
    });
    this.consumerTags = [main.consumerTag, dead.consumerTag];
  }

  /**
   * Runs a delivery in its trace (ADR 0023): the amqplib instrumentation calls this inside its
   * consumer span, a child of the publisher's; without one, the message's `traceparent` is
   * continued directly.
   */
  private deliver(msg: ConsumeMessage, run: (d: Delivery) => Promise<void>) {
    const active = context.active();
    const ctx = trace.getSpan(active) ? active : contextOfTraceparent(msg.properties.headers?.traceparent);
    const d: Delivery = { msg, generation: this.generation, run, ctx };
    void this.track(context.with(ctx, () => run(d)));
  }

  /** A copy back from a delay queue (`retry`), or one the broker delivers again (`broker`: a consumer or channel was lost). */
  private countRedelivery(msg: ConsumeMessage) {
    if (attemptsOf(msg) > 0) this.metrics.redelivered.inc({ queue: this.queueName, cause: 'retry' });
    else if (msg.fields.redelivered) this.metrics.redelivered.inc({ queue: this.queueName, cause: 'broker' });
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  private ack(d: Delivery) {
    if (d.generation === this.generation) this.consumer!.ack(d.msg);
  }
  private nack(d: Delivery) {
    if (d.generation === this.generation) this.consumer!.nack(d.msg, false, true);
  }

  /**
   * Re-publishes parked events of this service's types to `dvd.events` (now routed, at least
   * to this service's queue) and puts the others back until they expire. Bounded by the
   * queue's length when the drain starts.
   */
  private async drainUnrouted(ch: ConfirmChannel, mine: Set<string>): Promise<void> {
    const { messageCount } = await ch.checkQueue(UNROUTED_QUEUE);
    let routed = 0;
    for (let i = 0; i < Math.min(messageCount, 100_000); i++) {
      const m = await ch.get(UNROUTED_QUEUE, { noAck: false });
      if (!m) break;
      const type = typeof m.properties.type === 'string' ? m.properties.type : '';
      const parkedAt = Number(m.properties.headers?.[PARKED_AT_HEADER] ?? 0);
      // published in the trace the event belongs to (its traceparent), not in this start's
      const inTrace = contextOfTraceparent(m.properties.headers?.traceparent);
      if (mine.has(type)) {
        context.with(inTrace, () => ch.publish(EVENTS_EXCHANGE, type, m.content, copyProperties(m, {})));
        routed++;
      } else if (parkedAt + UNROUTED_TTL_MS > Date.now()) {
        context.with(inTrace, () => ch.publish('', UNROUTED_QUEUE, m.content, copyProperties(m, {})));
      }
      await ch.waitForConfirms();
      ch.ack(m);
    }
    if (routed > 0) this.o.log.info({ routed }, 'parked events re-published');
  }

  private async handle(d: Delivery): Promise<void> {
    const { msg } = d;
    const parsed = parseBody(msg);
    if (!parsed.ok) {
      // Never retried: a malformed message cannot get better. Its body is not kept (it may hold anything).
      await this.deadLetter(d, {
        eventId: deadLetterKey(msg.properties.messageId),
        eventType: typeof msg.properties.type === 'string' ? msg.properties.type : 'unknown',
        reason: 'malformed',
        detail: parsed.reason,
        attempts: 1,
        firstFailedAt: new Date(),
        size: msg.content.length,
        envelope: null,
      });
      return;
    }
    const envelope = parsed.envelope;
    const handler = this.handlers.get(envelope.type);
    if (!handler) {
      this.ack(d);
      return;
    }
    // ids only: the event, its type and the document it is about (never the payload)
    const attributes = { 'messaging.message.id': envelope.id, 'dvd.event.type': envelope.type, 'dvd.event.attempt': attemptsOf(msg) + 1 };
    const documentId = documentIdOf(envelope);
    await tracer.startActiveSpan(
      `handle ${envelope.type}`,
      { attributes: documentId ? { ...attributes, 'dvd.document.id': documentId } : attributes },
      async (span) => {
        try {
          await this.apply(d, envelope, handler);
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.name });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  }

  /** Applies an event once (its id recorded in the handler's transaction), acks after the commit; a failure goes to retry or dead letter. */
  private async apply(d: Delivery, envelope: EventEnvelope, handler: EventHandler<EventType>): Promise<void> {
    const { log, dataSource } = this.o;
    const { msg } = d;
    const queue = this.queueName;
    let emitted = false;
    let duplicate = false;
    const hooks: Array<() => void> = [];
    try {
      await dataSource.transaction(async (manager) => {
        commitHooks.set(manager, hooks);
        const fresh: unknown[] = await manager.query(
          `INSERT INTO processed_events (event_id, event_type) VALUES ($1, $2)
           ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
          [envelope.id, envelope.type],
        );
        if (fresh.length === 0) {
          duplicate = true;
          return; // already applied: redelivery changes nothing
        }
        const events = new PendingEvents({ correlationId: envelope.correlationId, causationId: envelope.id });
        await handler(envelope.data, { envelope, manager, emit: events.emit });
        emitted = await events.write(manager);
        if (envelope.type === 'document.purged')
          await new DeadLetterStore(manager).purgeDocument((envelope.data as EventMap['document.purged']).documentId);
      });
      this.metrics.consumed.inc({ queue, event_type: envelope.type, outcome: duplicate ? 'duplicate' : 'applied' });
      runCommitHooks(hooks);
      this.ack(d);
      if (emitted) this.kick();
    } catch (err) {
      this.metrics.consumed.inc({ queue, event_type: envelope.type, outcome: 'failed' });
      trace.getActiveSpan()?.setStatus({ code: SpanStatusCode.ERROR, message: describeError(err) });
      if (await this.databaseDown(err)) {
        this.hold(d);
        return;
      }
      const failed = attemptsOf(msg) + 1;
      const delay = this.schedule.delayAfter(failed);
      log.error(
        // the error's message may quote data (a constraint violation quotes values): name and code only
        {
          eventId: envelope.id,
          eventType: envelope.type,
          attempt: failed,
          errorName: (err as Error)?.name,
          code: errorCode(err),
          retryInMs: delay,
        },
        delay === null ? 'event handler failed; out of attempts' : 'event handler failed; retry scheduled',
      );
      if (delay !== null) {
        await this.retryLater(d, failed, delay);
        return;
      }
      await this.deadLetter(d, {
        eventId: envelope.id,
        eventType: envelope.type,
        reason: 'handler-failed',
        detail: describeError(err),
        attempts: failed,
        firstFailedAt: firstFailedAt(msg),
        size: msg.content.length,
        envelope,
      });
    }
  }

  /** A message the broker dead-lettered (a copy returned too often without ack): into the table. */
  private async handleBrokerDeadLetter(d: Delivery): Promise<void> {
    const { msg } = d;
    const parsed = parseBody(msg);
    await this.deadLetter(d, {
      eventId: parsed.ok ? parsed.envelope.id : deadLetterKey(msg.properties.messageId),
      eventType: parsed.ok ? parsed.envelope.type : typeof msg.properties.type === 'string' ? msg.properties.type : 'unknown',
      reason: parsed.ok ? 'delivery-limit' : 'malformed',
      detail: parsed.ok ? 'delivery limit exceeded' : parsed.reason,
      attempts: Math.max(1, attemptsOf(msg) + 1),
      firstFailedAt: firstFailedAt(msg),
      size: msg.content.length,
      envelope: parsed.ok ? parsed.envelope : null,
    });
  }

  /** Publishes a copy to the delay queue (confirmed), then acks the delivery. */
  private async retryLater(d: Delivery, failed: number, delay: number): Promise<void> {
    const { msg } = d;
    try {
      await this.publishConfirmed(
        this.consumer!,
        '',
        this.retryQueueName(delay),
        msg.content,
        copyProperties(msg, { [ATTEMPTS_HEADER]: failed, [FIRST_FAILED_HEADER]: firstFailedAt(msg).getTime() }),
      );
      this.ack(d);
    } catch (err) {
      this.o.log.warn(
        { eventId: msg.properties.messageId as unknown, errorName: (err as Error)?.name },
        'retry not scheduled; message returned to the queue',
      );
      this.nack(d);
    }
  }

  private async deadLetter(d: Delivery, input: DeadLetterInput): Promise<void> {
    try {
      await this.deadLetters.record(input);
      this.metrics.deadLettered.inc({ queue: this.queueName, reason: input.reason });
      this.o.log.warn(
        { eventId: input.eventId, eventType: input.eventType, reason: input.reason, attempts: input.attempts },
        'event dead-lettered',
      );
      this.ack(d);
    } catch (err) {
      if (await this.databaseDown(err)) return this.hold(d);
      // the table itself is at fault: keep the event circling through the longest delay
      this.o.log.error({ eventId: input.eventId, errorName: (err as Error)?.name, code: errorCode(err) }, 'dead letter not stored');
      await this.retryLater(d, this.o.maxDeliveries, Math.max(...this.schedule.distinctDelays(), this.schedule.delaysMs[0]));
    }
  }

  /** Connection-class error and the database does not answer a probe either. */
  private async databaseDown(err: unknown): Promise<boolean> {
    if (!isConnectionError(err)) return false;
    return !(await this.databaseAnswers());
  }

  private async databaseAnswers(): Promise<boolean> {
    try {
      await withTimeout(this.o.dataSource.query('SELECT 1'), 5_000);
      return true;
    } catch {
      return false;
    }
  }

  /** Keeps a delivery unacked (the broker neither redelivers nor counts it) and pauses the consumer. */
  private hold(d: Delivery) {
    if (d.generation !== this.generation || this.stopped) return; // the broker redelivers it anyway
    this.held.push(d);
    if (this.paused) return;
    this.paused = true;
    this.o.log.warn({ service: this.o.service, reason: 'database-unreachable' }, 'event consumer paused');
    const tags = this.consumerTags;
    this.consumerTags = [];
    void this.track(
      (async () => {
        for (const tag of tags) await this.consumer!.cancel(tag).catch(() => undefined);
        await this.waitForDatabase();
        await this.resume();
      })(),
    );
  }

  private async waitForDatabase(): Promise<void> {
    const { min, max } = this.o.probeDelayMs ?? { min: 250, max: 10_000 };
    let delay = min;
    while (!this.stopped) {
      await sleep(delay, this.stopping.signal);
      if (this.stopped || (await this.databaseAnswers())) return;
      delay = Math.min(delay * 2, max);
    }
  }

  private async resume(): Promise<void> {
    if (this.stopped) return;
    this.paused = false;
    const held = this.held.splice(0);
    for (const d of held) {
      if (this.paused) this.held.push(d);
      else await context.with(d.ctx, () => d.run(d)); // in the trace it arrived in
    }
    if (this.paused || this.stopped) return;
    await this.consume();
    this.o.log.info({ service: this.o.service, replayed: held.length }, 'event consumer resumed');
  }

  /**
   * Publishes with confirm and `mandatory`; rejects when the broker returned the message as
   * unroutable. The active trace context goes with the message even when the channel wrapper
   * sends it later (see `withPublishContext`).
   */
  private async publishConfirmed(channel: ChannelWrapper, exchange: string, routingKey: string, content: Buffer, options: Options.Publish) {
    const id = options.messageId;
    const headers = withPublishContext({ ...(options.headers as Record<string, unknown> | undefined) });
    await channel.publish(exchange, routingKey, content, { ...options, headers, mandatory: true, timeout: 10_000 });
    if (id && this.returned.delete(id)) throw new ReturnedError(`returned unroutable`);
  }

  /** Replays a dead letter into this service's queue (through the outbox); see {@link DeadLetterStore.replay}. */
  async replayDeadLetter(eventId: string) {
    const outcome = await this.deadLetters.replay(eventId, this.queueName);
    if (outcome === 'replayed') {
      this.o.log.info({ eventId }, 'dead letter replayed');
      this.kick();
    }
    return outcome;
  }

  /**
   * Runs `work` in a transaction and publishes the events it emitted after the commit.
   * The events are in the outbox table, so a crash after the commit loses none.
   */
  async transaction<T>(work: (manager: EntityManager, emit: Emitter) => Promise<T>, meta?: { correlationId?: string }): Promise<T> {
    let emitted = false;
    const hooks: Array<() => void> = [];
    const result = await this.o.dataSource.transaction(async (manager) => {
      commitHooks.set(manager, hooks);
      const events = new PendingEvents({ correlationId: meta?.correlationId });
      const done = await work(manager, events.emit);
      emitted = await events.write(manager);
      return done;
    });
    runCommitHooks(hooks);
    if (emitted) this.kick();
    return result;
  }

  /** After a reconnect: every outbox row in backoff is due at once, and the relay runs. */
  private async retryOutboxNow(): Promise<void> {
    await this.o.dataSource.query(`UPDATE outbox SET next_attempt_at = NULL WHERE next_attempt_at > now()`);
    this.kick();
  }

  /** Asks the relay to run now (after a commit that wrote to the outbox). */
  kick(): void {
    if (this.stopped || this.o.relayEnabled === false) return;
    if (this.relayRunning) {
      this.relayAgain = true;
      return;
    }
    this.scheduleRelay(0);
  }

  /** `poll`: the periodic run, not asked for by a commit; it looks before it opens a transaction. */
  private scheduleRelay(delay: number, poll = false) {
    if (this.stopped) return;
    if (this.relayTimer) clearTimeout(this.relayTimer);
    // outside any trace: a batch holds the rows of many requests, each published in its own (relayOnce)
    this.relayTimer = setTimeout(() => context.with(ROOT_CONTEXT, () => void this.track(this.runRelay(poll))), delay);
  }

  /**
   * Relays batches until one comes back short (or sent nothing) and no commit asked for
   * another pass meanwhile (a row committed during a batch kicks, see {@link kick}): a short
   * batch took every due row that was not another replica's. The periodic poll first asks
   * whether any row is due, one statement instead of a transaction of three for the usual
   * nothing.
   */
  private async runRelay(poll = false): Promise<void> {
    if (this.relayRunning || this.stopped) return;
    this.relayRunning = true;
    const batchSize = this.batchSize();
    let batch = { taken: 0, sent: 0 };
    let failed = false;
    try {
      this.relayAgain = false;
      if (poll && !(await this.anyRowDue()) && !this.relayAgain) return;
      do {
        this.relayAgain = false;
        batch = await this.relayOnce();
        // a full batch that got anything out: more may be due (one that got nothing out waits for the poll)
      } while (((batch.taken >= batchSize && batch.sent > 0) || this.relayAgain) && !this.stopped);
    } catch (err) {
      failed = true;
      this.o.log.warn({ errorName: (err as Error)?.name, code: (err as { code?: string })?.code }, 'outbox relay failed; will retry');
    } finally {
      this.relayRunning = false;
      // a commit that asked after the last pass had looked: now, not at the next poll (after a failure, the poll)
      if (this.relayAgain && !failed) this.scheduleRelay(0);
      else this.scheduleRelay(this.o.relayIntervalMs ?? 500, true);
    }
  }

  private batchSize(): number {
    return Math.max(1, this.o.relayBatchSize ?? DEFAULT_RELAY_BATCH_SIZE);
  }

  private async anyRowDue(): Promise<boolean> {
    const rows: unknown[] = await this.o.dataSource.query(
      `SELECT 1 FROM outbox WHERE next_attempt_at IS NULL OR next_attempt_at <= now() LIMIT 1`,
    );
    return rows.length > 0;
  }

  /**
   * Publishes one batch of outbox rows with publisher confirms and `mandatory`, and deletes
   * a row only after its confirm. A row the broker returned as unroutable is parked in
   * `dvd.unrouted` (again confirmed) before it is deleted; a row that was not confirmed (or
   * whose target queue is gone) stays and is tried again with backoff. Rows are locked with
   * SKIP LOCKED, so several replicas relay in parallel without sending a row twice (a crash
   * after publish but before delete can resend: the consumers' de-duplication absorbs that).
   * Answers how many rows it took and how many of them it sent.
   */
  async relayOnce(): Promise<{ taken: number; sent: number }> {
    const publisher = this.publisher;
    if (!publisher) return { taken: 0, sent: 0 };
    return this.o.dataSource.transaction(async (manager) => {
      const rows: OutboxRow[] = await manager.query(
        `SELECT id, type, data, occurred_at, correlation_id, causation_id, target_queue, attempts, traceparent FROM outbox
          WHERE next_attempt_at IS NULL OR next_attempt_at <= now()
         ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.batchSize()],
      );
      if (rows.length === 0) return { taken: 0, sent: 0 };
      // each row is published in the trace of the request or event that wrote it (ADR 0023)
      const outcomes = await Promise.all(
        rows.map((row) => context.with(contextOfTraceparent(row.traceparent), () => this.relayRow(publisher, row))),
      );
      const sent = rows.filter((_, i) => outcomes[i]).map((r) => r.id);
      const kept = rows.filter((_, i) => !outcomes[i]);
      if (sent.length) await manager.query(`DELETE FROM outbox WHERE id = ANY($1::uuid[])`, [sent]);
      for (const row of kept) {
        // 1 s, 2 s, 4 s … up to a minute between tries
        await manager.query(
          `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2) WHERE id = $1`,
          [row.id, Math.min(2 ** Math.min(row.attempts, 6), 60)],
        );
      }
      return { taken: rows.length, sent: sent.length };
    });
  }

  /** True once the row's event is confirmed in a queue (its own, or the parking queue). */
  private async relayRow(publisher: ChannelWrapper, row: OutboxRow): Promise<boolean> {
    const envelope = {
      id: row.id,
      type: row.type,
      occurredAt: new Date(row.occurred_at).toISOString(),
      correlationId: row.correlation_id,
      causationId: row.causation_id,
      data: row.data,
    };
    const body = Buffer.from(JSON.stringify(envelope));
    const options: Options.Publish = {
      persistent: true,
      contentType: 'application/json',
      messageId: row.id,
      type: row.type,
      timestamp: Math.floor(Date.now() / 1000),
      appId: this.o.service,
      // with tracing on, the amqplib instrumentation replaces it with its producer span's (a child of this one)
      headers: traceHeaders(row.traceparent),
    };
    try {
      // a replayed dead letter goes to the one queue that dead-lettered it
      if (row.target_queue) await this.publishConfirmed(publisher, '', row.target_queue, body, options);
      else await this.publishConfirmed(publisher, EVENTS_EXCHANGE, row.type, body, options);
      this.metrics.published.inc({ event_type: row.type });
      return true;
    } catch (err) {
      // returned because nobody consumes this type by design: delivered to everyone who wants it
      if (err instanceof ReturnedError && !row.target_queue && EVENT_CONSUMERS[row.type as EventType]?.length === 0) {
        this.metrics.published.inc({ event_type: row.type });
        return true;
      }
      if (!(err instanceof ReturnedError) || row.target_queue) {
        this.o.log.warn(
          { eventId: row.id, eventType: row.type, errorName: (err as Error)?.name },
          'event not published; kept in the outbox',
        );
        return false;
      }
    }
    try {
      await this.publishConfirmed(publisher, '', UNROUTED_QUEUE, body, {
        ...options,
        headers: { ...traceHeaders(row.traceparent), [PARKED_AT_HEADER]: Date.now() },
      });
      this.metrics.published.inc({ event_type: row.type });
      this.o.log.info({ eventId: row.id, eventType: row.type }, 'event parked: no queue is bound for its type yet');
      return true;
    } catch (err) {
      this.o.log.warn({ eventId: row.id, eventType: row.type, errorName: (err as Error)?.name }, 'event not parked; kept in the outbox');
      return false;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopping.abort();
    if (this.relayTimer) clearTimeout(this.relayTimer);
    clearInterval(this.pruneTimer);
    await this.consumer?.cancelAll().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    await this.consumer?.close().catch(() => undefined);
    await this.publisher?.close().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
  }
}

interface OutboxInsert {
  id: string;
  type: EventType;
  data: string;
  correlationId: string;
  causationId: string | null;
  traceparent: string | null;
}

/**
 * The events a transaction emits, written into its outbox in one statement at its end (one
 * round trip however many it emits). Each keeps the trace that was active when it was
 * emitted: the relay publishes it in that trace.
 */
class PendingEvents {
  private readonly rows: OutboxInsert[] = [];
  private readonly purged: string[] = [];

  constructor(private readonly meta: { correlationId?: string; causationId?: string }) {}

  readonly emit: Emitter = async (type, data) => {
    const id = randomUUID();
    this.rows.push({
      id,
      type,
      data: JSON.stringify(data),
      correlationId: this.meta.correlationId ?? id,
      causationId: this.meta.causationId ?? null,
      traceparent: activeTraceparent(),
    });
    if (type === 'document.purged') this.purged.push((data as EventMap['document.purged']).documentId);
  };

  ids(): string[] {
    return this.rows.map((r) => r.id);
  }

  /** Writes what was emitted; true when there was anything. */
  async write(manager: EntityManager): Promise<boolean> {
    if (this.rows.length === 0) return false;
    await insertOutboxRows(manager, this.rows);
    // the publisher of a purge forgets its own dead letters about the document in the same transaction
    for (const documentId of this.purged) await new DeadLetterStore(manager).purgeDocument(documentId);
    return true;
  }
}

async function insertOutboxRows(manager: EntityManager, rows: OutboxInsert[]): Promise<void> {
  const column = <F extends keyof OutboxInsert>(field: F) => rows.map((r) => r[field]);
  await manager.query(
    `INSERT INTO outbox (id, type, data, occurred_at, correlation_id, causation_id, traceparent)
     SELECT id, type, data::jsonb, now(), correlation_id, causation_id, traceparent
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         AS e(id, type, data, correlation_id, causation_id, traceparent)`,
    [column('id'), column('type'), column('data'), column('correlationId'), column('causationId'), column('traceparent')],
  );
}

/** Writes one event into the outbox of the transaction `manager` belongs to. */
export async function enqueueEvent<K extends EventType>(
  manager: EntityManager,
  type: K,
  data: EventMap[K],
  meta: { correlationId?: string; causationId?: string } = {},
): Promise<string> {
  const events = new PendingEvents(meta);
  await events.emit(type, data);
  await events.write(manager);
  return events.ids()[0];
}

function assertUnroutedQueue(ch: Channel) {
  return ch.assertQueue(UNROUTED_QUEUE, {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-message-ttl': UNROUTED_TTL_MS,
      'x-max-length': UNROUTED_MAX_LENGTH,
      'x-overflow': 'reject-publish',
    },
  });
}

type ParsedBody = { ok: true; envelope: EventEnvelope } | { ok: false; reason: string };

function parseBody(msg: Message): ParsedBody {
  let raw: unknown;
  try {
    raw = JSON.parse(msg.content.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not json' };
  }
  return parseEnvelope(raw);
}

/** Failed attempts so far, from our header (absent on a first delivery). */
function attemptsOf(msg: Message): number {
  const n = Number(msg.properties.headers?.[ATTEMPTS_HEADER] ?? 0);
  return Number.isInteger(n) && n >= 0 && n < 1_000 ? n : 0;
}

function firstFailedAt(msg: Message): Date {
  const at = Number(msg.properties.headers?.[FIRST_FAILED_HEADER]);
  return Number.isFinite(at) && at > 0 && at <= Date.now() ? new Date(at) : new Date();
}

/** The message's properties for a re-publish, without the broker's bookkeeping headers. */
function copyProperties(msg: Message, headers: Record<string, unknown>): Options.Publish {
  const p = msg.properties;
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p.headers ?? {}))
    if (!k.startsWith('x-death') && !k.startsWith('x-first-death') && !k.startsWith('x-last-death') && k !== 'x-delivery-count')
      kept[k] = v;
  return {
    persistent: true,
    contentType: p.contentType as string | undefined,
    messageId: p.messageId as string | undefined,
    type: p.type as string | undefined,
    appId: p.appId as string | undefined,
    timestamp: p.timestamp as number | undefined,
    headers: { ...kept, ...headers },
  };
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' || typeof code === 'number' ? String(code).slice(0, 20) : undefined;
}

/** Error name and code for the dead letter: never the message (it may quote values). */
function describeError(err: unknown): string {
  const name = typeof (err as Error)?.name === 'string' ? (err as Error).name : 'Error';
  const code = errorCode(err);
  return code ? `${name} ${code}` : name;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
