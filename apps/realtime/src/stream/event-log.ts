import { randomUUID } from 'node:crypto';
import amqp, { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import { EVENTS_EXCHANGE, EventEnvelope, parseEnvelope } from '@dvd/contracts';
import { STREAMED_EVENT_TYPES } from './stream-entry';

/** The stream queue every realtime replica reads (ADR 0021). */
export const EVENT_STREAM_QUEUE = 'realtime.events';
/**
 * Its arguments, fixed (a stream's arguments cannot change once declared): a bit more than
 * the 5 minutes a client may resume, small segments so that the broker can drop old ones
 * (retention works per segment), and a size cap besides.
 */
export const EVENT_STREAM_ARGUMENTS = {
  'x-queue-type': 'stream',
  'x-max-age': '6m',
  'x-stream-max-segment-size-bytes': 4 * 1024 * 1024,
  'x-max-length-bytes': 512 * 1024 * 1024,
} as const;
/** A message a replica writes into the stream to learn when it has read everything before it. */
const MARKER_TYPE = 'realtime.caught-up';

export interface LogMessage {
  offset: number;
  /** When it was published (ms; the publisher's `timestamp` property, else when it arrived). */
  publishedAt: number;
  /** The event, or null for anything else in the stream (a marker, a malformed message). */
  envelope: EventEnvelope | null;
}

export interface EventLogOptions {
  amqpUrl: string;
  /** How far back to start reading (ms): the replay window. */
  windowMs: number;
  log: Logger;
  /** Unacknowledged deliveries in flight (a stream consumer needs a prefetch). */
  prefetch?: number;
}

/**
 * Reads the `realtime.events` stream: non-destructively, so every replica reads every event
 * (fan-out through the broker, no sticky sessions). On start it reads from now − window, so
 * that it holds the window when it serves its first client; after a reconnect it goes on
 * after the last offset it read. `caughtUp` turns true when it read a marker it wrote itself
 * after it started to consume: then it has read everything that was in the stream before.
 */
export class EventLog {
  private connection?: AmqpConnectionManager;
  private consumer?: ChannelWrapper;
  private lastOffset: number | null = null;
  private readonly markerId = randomUUID();
  private markerSent = false;
  private caught = false;
  private stopped = false;
  private readonly caughtUpWaiters: Array<() => void> = [];

  constructor(
    private readonly o: EventLogOptions,
    private readonly onMessage: (m: LogMessage) => void,
  ) {}

  get caughtUp(): boolean {
    return this.caught;
  }

  isConnected(): boolean {
    return this.connection?.isConnected() ?? false;
  }

  /** Resolves once the replica has read the stream up to its start (for tests and start-up logs). */
  whenCaughtUp(): Promise<void> {
    return this.caught ? Promise.resolve() : new Promise((resolve) => this.caughtUpWaiters.push(resolve));
  }

  async start(): Promise<void> {
    const { log } = this.o;
    this.connection = amqp.connect([this.o.amqpUrl], { heartbeatIntervalInSeconds: 10, reconnectTimeInSeconds: 1 });
    this.connection.on('disconnect', ({ err }) => log.warn({ err: err?.message }, 'amqp disconnected'));
    this.connection.on('connect', () => log.info('amqp connected'));
    this.consumer = this.connection.createChannel({
      confirm: true,
      setup: async (ch: ConfirmChannel) => {
        await ch.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
        await ch.assertQueue(EVENT_STREAM_QUEUE, { durable: true, arguments: EVENT_STREAM_ARGUMENTS });
        for (const type of STREAMED_EVENT_TYPES) await ch.bindQueue(EVENT_STREAM_QUEUE, EVENTS_EXCHANGE, type);
        await ch.prefetch(this.o.prefetch ?? 1000);
        // first start: the window; after a reconnect: right after what was read
        const offset =
          this.lastOffset === null ? { '!': 'timestamp', value: Math.floor((Date.now() - this.o.windowMs) / 1000) } : this.lastOffset + 1;
        await ch.consume(EVENT_STREAM_QUEUE, (msg) => msg && this.receive(ch, msg), {
          noAck: false,
          arguments: { 'x-stream-offset': offset },
        });
        if (!this.caught) await this.sendMarker(ch);
      },
    });
    await this.consumer.waitForConnect();
  }

  /** Writes the marker into the stream (confirmed): reading it back means everything before it was read. */
  private async sendMarker(ch: ConfirmChannel): Promise<void> {
    ch.publish('', EVENT_STREAM_QUEUE, Buffer.from('{}'), { type: MARKER_TYPE, messageId: this.markerId, timestamp: nowSeconds() });
    await ch.waitForConfirms();
    if (!this.markerSent) this.o.log.info('reading the event stream from the start of the replay window');
    this.markerSent = true;
  }

  private receive(ch: ConfirmChannel, msg: ConsumeMessage): void {
    ch.ack(msg); // on a stream an ack only grants credit; nothing is removed
    const offset = Number(msg.properties.headers?.['x-stream-offset']);
    if (!Number.isSafeInteger(offset) || offset < 0) return;
    // a consumer may start at the beginning of a chunk: skip what was read before
    if (this.lastOffset !== null && offset <= this.lastOffset) return;
    this.lastOffset = offset;
    const type = typeof msg.properties.type === 'string' ? msg.properties.type : '';
    if (type === MARKER_TYPE) {
      this.onMessage({ offset, publishedAt: Date.now(), envelope: null });
      if (msg.properties.messageId === this.markerId && !this.caught) {
        this.caught = true;
        this.o.log.info({ offset }, 'event stream caught up');
        for (const resolve of this.caughtUpWaiters.splice(0)) resolve();
      }
      return;
    }
    // the timestamp property has whole seconds: the end of that second, but never later than now
    const ts = Number(msg.properties.timestamp);
    const publishedAt = Number.isFinite(ts) && ts > 0 ? Math.min(Date.now(), ts * 1000 + 999) : Date.now();
    this.onMessage({ offset, publishedAt, envelope: parse(msg.content) });
  }

  /** Readiness: connected and caught up (before that, a resumed client could be told to reset for nothing). */
  async check(): Promise<void> {
    if (!this.isConnected()) throw new Error('not connected');
    if (!this.caught) throw new Error('not caught up');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.consumer?.close().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
  }
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function parse(content: Buffer): EventEnvelope | null {
  if (content.length > 64 * 1024) return null; // ids and plain data only: nothing this large
  try {
    const parsed = parseEnvelope(JSON.parse(content.toString('utf8')));
    return parsed.ok ? parsed.envelope : null;
  } catch {
    return null;
  }
}
