import { z } from 'zod';
import { amqpEnv, commonEnv, identityVerifyEnv, port, positiveInt, serviceSigningEnv, url } from '@dvd/platform';

const bounded = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

export const realtimeConfigSchema = z.object({
  ...commonEnv,
  AMQP_URL: amqpEnv.AMQP_URL,
  REALTIME_PORT: port(3005),
  /**
   * The stream port: `GET /api/v1/events` over cleartext HTTP/2 for the gateway, which carries
   * many streams over each connection (ADR 0021). Inside the cluster only, like REALTIME_PORT.
   */
  REALTIME_STREAM_PORT: port(3015),
  /** Streams one gateway connection may carry at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). */
  REALTIME_STREAMS_PER_CONNECTION: bounded(1_000, 1, 100_000),
  BIND_HOST: z.string().default('0.0.0.0'),
  ...identityVerifyEnv,
  ...serviceSigningEnv,
  /** routing-engine's internal API: does the official's authority have the unit of `?unitId=`? */
  ROUTING_ENGINE_URL: url(['http', 'https'], 'http://127.0.0.1:3002'),
  /**
   * How far back `Last-Event-ID` resumes (ms): each replica keeps the events of this window in
   * memory. At most 5 minutes: the broker's stream keeps 6 (ADR 0021).
   */
  REALTIME_REPLAY_WINDOW_MS: bounded(300_000, 1_000, 300_000),
  /** The most events a replica keeps for resuming, whatever the window (oldest dropped first). */
  REALTIME_BUFFER_MAX_EVENTS: bounded(200_000, 100, 5_000_000),
  /** A comment (or an `id:` line) on every idle stream this often, so proxies keep it open. */
  REALTIME_HEARTBEAT_MS: bounded(15_000, 100, 120_000),
  /** Open streams per user at a time, over all replicas (Redis; per replica while Redis is down). */
  REALTIME_MAX_STREAMS_PER_USER: bounded(5, 1, 100),
  /** Open streams per replica; beyond it new streams get 503 and go to another replica. */
  REALTIME_MAX_STREAMS: positiveInt(20_000),
  /** A client whose unsent bytes exceed this is disconnected (it reconnects and resumes) instead of being buffered for. */
  REALTIME_MAX_BUFFERED_BYTES: bounded(256 * 1024, 1024, 64 * 1024 * 1024),
});
export type RealtimeConfig = z.output<typeof realtimeConfigSchema>;
