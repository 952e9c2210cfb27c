import { randomUUID } from 'node:crypto';
import amqp, { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import { DataSource, EntityManager } from 'typeorm';
import { EVENTS_EXCHANGE, EventEnvelope, EventMap, EventType, parseEnvelope } from '@dvd/contracts';

export const DEAD_LETTER_EXCHANGE = 'dvd.dlx';

export interface MessagingOptions {
  amqpUrl: string;
  /** Service name; its queue is `<service>.events`, the dead-letter queue `<service>.events.dlq`. */
  service: string;
  maxDeliveries: number;
  dataSource: DataSource;
  log: Logger;
  prefetch?: number;
  relayIntervalMs?: number;
  relayBatchSize?: number;
  /** For tests that simulate a crash between commit and publish. */
  relayEnabled?: boolean;
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
}

/**
 * The event bus of one service: a transactional outbox with a relay that publishes with
 * publisher confirms, and a consumer that applies each event once (processed-event ids
 * in the same transaction as the handler's writes), acks after commit, and lets the
 * broker dead-letter a message after `maxDeliveries` failed deliveries (quorum queue
 * `x-delivery-limit`).
 */
export class Messaging {
  private readonly handlers = new Map<EventType, EventHandler<EventType>>();
  private connection?: AmqpConnectionManager;
  private publisher?: ChannelWrapper;
  private consumer?: ChannelWrapper;
  private relayTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private relayRunning = false;
  private relayAgain = false;
  private stopped = false;
  private inFlight = new Set<Promise<unknown>>();

  constructor(private readonly o: MessagingOptions) {}

  get queueName() {
    return `${this.o.service}.events`;
  }
  get deadLetterQueueName() {
    return `${this.queueName}.dlq`;
  }

  /** Registers the handler for one event type; call before `start()`. */
  on<K extends EventType>(type: K, handler: EventHandler<K>): this {
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
    this.connection.on('connect', () => log.info('amqp connected'));
    this.publisher = this.connection.createChannel({
      confirm: true,
      setup: (ch: ConfirmChannel) => ch.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true }),
    });
    await this.publisher.waitForConnect();
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

  private async startConsumer(): Promise<void> {
    const queue = this.queueName;
    const dlq = this.deadLetterQueueName;
    const types = [...this.handlers.keys()];
    this.consumer = this.connection!.createChannel({
      setup: async (ch: Channel) => {
        await ch.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
        await ch.assertExchange(DEAD_LETTER_EXCHANGE, 'direct', { durable: true });
        await ch.assertQueue(dlq, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
        await ch.bindQueue(dlq, DEAD_LETTER_EXCHANGE, dlq);
        await ch.assertQueue(queue, {
          durable: true,
          arguments: {
            'x-queue-type': 'quorum',
            // delivered once, then returned at most (max-1) times before dead-lettering
            'x-delivery-limit': Math.max(0, this.o.maxDeliveries - 1),
            'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
            'x-dead-letter-routing-key': dlq,
          },
        });
        for (const type of types) await ch.bindQueue(queue, EVENTS_EXCHANGE, type);
      },
    });
    await this.consumer.waitForConnect();
    await this.consumer.consume(queue, (msg) => this.track(this.handle(msg)), {
      noAck: false,
      prefetch: this.o.prefetch ?? 10,
    });
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  private async handle(msg: ConsumeMessage): Promise<void> {
    const { log, dataSource } = this.o;
    const consumer = this.consumer!;
    let raw: unknown;
    try {
      raw = JSON.parse(msg.content.toString('utf8'));
    } catch {
      raw = undefined;
    }
    const parsed = parseEnvelope(raw);
    if (!parsed.ok) {
      // Never retried: a malformed message cannot get better. Straight to the DLQ.
      log.warn({ reason: parsed.reason, messageId: msg.properties.messageId }, 'event rejected to dead-letter queue');
      consumer.nack(msg, false, false);
      return;
    }
    const envelope = parsed.envelope;
    const handler = this.handlers.get(envelope.type);
    if (!handler) {
      consumer.ack(msg);
      return;
    }
    let emitted = false;
    try {
      await dataSource.transaction(async (manager) => {
        const fresh: unknown[] = await manager.query(
          `INSERT INTO processed_events (event_id, event_type) VALUES ($1, $2)
           ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
          [envelope.id, envelope.type],
        );
        if (fresh.length === 0) return; // already applied: redelivery changes nothing
        const emit: Emitter = async (type, data) => {
          emitted = true;
          await enqueueEvent(manager, type, data, { correlationId: envelope.correlationId, causationId: envelope.id });
        };
        await handler(envelope.data, { envelope, manager, emit });
      });
      consumer.ack(msg);
      if (emitted) this.kick();
    } catch (err) {
      const delivery = Number(msg.properties.headers?.['x-delivery-count'] ?? 0) + 1;
      log.error(
        // the error's message may quote data (a constraint violation quotes values): name and code only
        {
          eventId: envelope.id,
          eventType: envelope.type,
          delivery,
          errorName: (err as Error)?.name,
          code: (err as { code?: string })?.code,
        },
        'event handler failed; message returned to the queue',
      );
      consumer.nack(msg, false, true);
    }
  }

  /**
   * Runs `work` in a transaction and publishes the events it emitted after the commit.
   * The events are in the outbox table, so a crash after the commit loses none.
   */
  async transaction<T>(work: (manager: EntityManager, emit: Emitter) => Promise<T>, meta?: { correlationId?: string }): Promise<T> {
    let emitted = false;
    const result = await this.o.dataSource.transaction(async (manager) => {
      const emit: Emitter = async (type, data) => {
        emitted = true;
        await enqueueEvent(manager, type, data, { correlationId: meta?.correlationId });
      };
      return work(manager, emit);
    });
    if (emitted) this.kick();
    return result;
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

  private scheduleRelay(delay: number) {
    if (this.stopped) return;
    if (this.relayTimer) clearTimeout(this.relayTimer);
    this.relayTimer = setTimeout(() => void this.track(this.runRelay()), delay);
  }

  private async runRelay(): Promise<void> {
    if (this.relayRunning || this.stopped) return;
    this.relayRunning = true;
    let sent = 0;
    try {
      do {
        this.relayAgain = false;
        sent = await this.relayOnce();
      } while ((sent > 0 || this.relayAgain) && !this.stopped);
    } catch (err) {
      this.o.log.warn({ errorName: (err as Error)?.name, code: (err as { code?: string })?.code }, 'outbox relay failed; will retry');
    } finally {
      this.relayRunning = false;
      this.scheduleRelay(this.o.relayIntervalMs ?? 500);
    }
  }

  /**
   * Publishes one batch of outbox rows with publisher confirms and deletes them only after
   * every confirm. Rows are locked with SKIP LOCKED, so several replicas relay in parallel
   * without sending a row twice (a crash after publish but before delete can resend: the
   * consumers' de-duplication by event id absorbs that).
   */
  async relayOnce(): Promise<number> {
    const publisher = this.publisher;
    if (!publisher) return 0;
    return this.o.dataSource.transaction(async (manager) => {
      const rows: OutboxRow[] = await manager.query(
        `SELECT id, type, data, occurred_at, correlation_id, causation_id FROM outbox
         ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.o.relayBatchSize ?? 100],
      );
      if (rows.length === 0) return 0;
      await Promise.all(
        rows.map((row) => {
          const envelope = {
            id: row.id,
            type: row.type,
            occurredAt: new Date(row.occurred_at).toISOString(),
            correlationId: row.correlation_id,
            causationId: row.causation_id,
            data: row.data,
          };
          return publisher.publish(EVENTS_EXCHANGE, row.type, Buffer.from(JSON.stringify(envelope)), {
            persistent: true,
            contentType: 'application/json',
            messageId: row.id,
            type: row.type,
            timestamp: Math.floor(Date.now() / 1000),
            appId: this.o.service,
            timeout: 10_000,
          });
        }),
      );
      await manager.query(`DELETE FROM outbox WHERE id = ANY($1::uuid[])`, [rows.map((r) => r.id)]);
      return rows.length;
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.relayTimer) clearTimeout(this.relayTimer);
    clearInterval(this.pruneTimer);
    await this.consumer?.cancelAll().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    await this.consumer?.close().catch(() => undefined);
    await this.publisher?.close().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
  }
}

/** Writes one event into the outbox of the transaction `manager` belongs to. */
export async function enqueueEvent<K extends EventType>(
  manager: EntityManager,
  type: K,
  data: EventMap[K],
  meta: { correlationId?: string; causationId?: string } = {},
): Promise<string> {
  const id = randomUUID();
  await manager.query(`INSERT INTO outbox (id, type, data, occurred_at, correlation_id, causation_id) VALUES ($1, $2, $3, now(), $4, $5)`, [
    id,
    type,
    JSON.stringify(data),
    meta.correlationId ?? id,
    meta.causationId ?? null,
  ]);
  return id;
}
