import { randomUUID } from 'node:crypto';
import amqp, { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { EVENTS_EXCHANGE, EventEnvelope, EventMap, EventType } from '@dvd/contracts';
import { pollUntil } from './infra';

/**
 * Listens to events on the real exchange through an exclusive queue of its own, and
 * publishes events as a service would. For asserting what services emit.
 */
export class EventProbe {
  readonly received: EventEnvelope[] = [];

  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: Channel,
  ) {}

  static async create(amqpUrl: string, types: EventType[] | '#' = '#'): Promise<EventProbe> {
    const connection = await amqp.connect(amqpUrl);
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    for (const t of types === '#' ? ['#'] : types) await channel.bindQueue(queue, EVENTS_EXCHANGE, t);
    const probe = new EventProbe(connection, channel);
    await channel.consume(
      queue,
      (msg: ConsumeMessage | null) => {
        if (msg) probe.received.push(JSON.parse(msg.content.toString()) as EventEnvelope);
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

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}
