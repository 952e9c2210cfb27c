import { randomUUID } from 'node:crypto';
import amqp, { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { EVENTS_EXCHANGE, EventEnvelope, EventMap, EventType } from '@dvd/contracts';
import { pollUntil } from './infra';

const BARRIER_HEADER = 'x-dvd-probe-barrier';

/**
 * Listens to events on the real exchange through an exclusive queue of its own, and
 * publishes events as a service would. For asserting what services emit.
 */
export class EventProbe {
  readonly received: EventEnvelope[] = [];
  private readonly barriersSeen = new Set<string>();

  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: Channel,
    private readonly queue: string,
  ) {}

  static async create(amqpUrl: string, types: EventType[] | '#' = '#'): Promise<EventProbe> {
    const connection = await amqp.connect(amqpUrl);
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    for (const t of types === '#' ? ['#'] : types) await channel.bindQueue(queue, EVENTS_EXCHANGE, t);
    const probe = new EventProbe(connection, channel, queue);
    await channel.consume(
      queue,
      (msg: ConsumeMessage | null) => {
        if (!msg) return;
        const barrier: unknown = msg.properties.headers?.[BARRIER_HEADER];
        if (typeof barrier === 'string') probe.barriersSeen.add(barrier);
        else probe.received.push(JSON.parse(msg.content.toString()) as EventEnvelope);
      },
      { noAck: true },
    );
    return probe;
  }

  of<K extends EventType>(type: K, where: (data: EventMap[K]) => boolean = () => true): Array<EventEnvelope<K>> {
    return this.received.filter((e): e is EventEnvelope<K> => e.type === type && where(e.data as EventMap[K]));
  }

  async waitFor<K extends EventType>(
    type: K,
    where: (data: EventMap[K]) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<EventEnvelope<K>> {
    return pollUntil(async () => this.of(type, where)[0], { timeoutMs, what: `event ${type}` });
  }

  /**
   * Resolves once every event that reached the probe's queue before this call has been
   * received: a marker goes into the queue behind them (FIFO) and is waited for. Use it
   * after the events in question are known to be in the queue (e.g. the service's outbox is
   * empty) to assert that something was NOT published, without sleeping.
   */
  async barrier(timeoutMs = 15_000): Promise<void> {
    const id = randomUUID();
    this.channel.sendToQueue(this.queue, Buffer.from('{}'), { headers: { [BARRIER_HEADER]: id } });
    await (this.channel as amqp.ConfirmChannel).waitForConfirms();
    await pollUntil(async () => this.barriersSeen.has(id), { timeoutMs, intervalMs: 10, what: 'the probe barrier' });
  }

  /** Publishes an envelope (persistent, confirmed); returns it so it can be published again. */
  async publish<K extends EventType>(type: K, data: EventMap[K], envelope?: EventEnvelope<K>): Promise<EventEnvelope<K>> {
    const env: EventEnvelope<K> = envelope ?? {
      id: randomUUID(),
      type,
      occurredAt: new Date().toISOString(),
      correlationId: randomUUID(),
      causationId: null,
      data,
    };
    this.channel.publish(EVENTS_EXCHANGE, type, Buffer.from(JSON.stringify(env)), { persistent: true, contentType: 'application/json' });
    await (this.channel as amqp.ConfirmChannel).waitForConfirms();
    return env;
  }

  /** Publishes many events and waits for the broker's confirms once (fast: no round trip per event). */
  async publishMany<K extends EventType>(type: K, items: Array<EventMap[K]>): Promise<void> {
    for (const data of items) {
      const env: EventEnvelope<K> = {
        id: randomUUID(),
        type,
        occurredAt: new Date().toISOString(),
        correlationId: randomUUID(),
        causationId: null,
        data,
      };
      this.channel.publish(EVENTS_EXCHANGE, type, Buffer.from(JSON.stringify(env)), { persistent: true, contentType: 'application/json' });
    }
    await (this.channel as amqp.ConfirmChannel).waitForConfirms();
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}
