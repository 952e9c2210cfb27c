import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';

/**
 * Takes a lease if the user holds fewer than `limit` live ones. Leases are scored by their
 * expiry; a replica refreshes the leases of its streams on every heartbeat, so those of a
 * replica that died lapse by themselves.
 */
const ACQUIRE = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local expiry = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return { 0, tonumber(oldest[2]) - now }
end
redis.call('ZADD', key, expiry, ARGV[4])
redis.call('PEXPIREAT', key, expiry)
return { 1, 0 }
`;

export type Acquired = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * Open streams per user, over all replicas (Redis sorted set per user of stream leases).
 * While Redis does not answer, each replica counts its own streams (a user may then hold
 * `limit` streams per replica): the stream stays available, the bound stays finite.
 */
export class StreamLimiter {
  private readonly logger = new Logger(StreamLimiter.name);
  private readonly local = new Map<string, Set<string>>();
  private degraded = false;

  constructor(
    private readonly redis: Redis | null,
    private readonly limit: number,
    /** How long a lease lives without a refresh. */
    private readonly leaseMs: number,
  ) {
    redis?.defineCommand('dvdStreamLease', { numberOfKeys: 1, lua: ACQUIRE });
  }

  private key(userKey: string) {
    return `realtime:streams:${userKey}`;
  }

  async acquire(userKey: string, streamId: string): Promise<Acquired> {
    const localOk = (this.local.get(userKey)?.size ?? 0) < this.limit;
    if (this.redis && this.redis.status === 'ready') {
      try {
        const now = Date.now();
        const [ok, waitMs] = (await (this.redis as Redis & { dvdStreamLease: (...a: unknown[]) => Promise<number[]> }).dvdStreamLease(
          this.key(userKey),
          now,
          now + this.leaseMs,
          this.limit,
          streamId,
        )) as [number, number];
        this.recovered();
        if (ok !== 1) return { ok: false, retryAfterMs: Math.max(1_000, waitMs) };
        this.remember(userKey, streamId);
        return { ok: true };
      } catch (err) {
        this.fellBack(err);
      }
    } else {
      this.fellBack(new Error('not connected'));
    }
    if (!localOk) return { ok: false, retryAfterMs: this.leaseMs };
    this.remember(userKey, streamId);
    return { ok: true };
  }

  /** Extends the leases of the streams this replica holds (one pipeline). */
  async refresh(streams: Array<{ userKey: string; streamId: string }>): Promise<void> {
    if (!this.redis || this.redis.status !== 'ready' || streams.length === 0) return;
    const until = Date.now() + this.leaseMs;
    const pipeline = this.redis.pipeline();
    for (const s of streams) {
      pipeline.zadd(this.key(s.userKey), until, s.streamId);
      pipeline.pexpireat(this.key(s.userKey), until);
    }
    await pipeline.exec().catch((err: unknown) => this.fellBack(err));
  }

  async release(userKey: string, streamId: string): Promise<void> {
    const mine = this.local.get(userKey);
    mine?.delete(streamId);
    if (mine?.size === 0) this.local.delete(userKey);
    if (!this.redis || this.redis.status !== 'ready') return;
    await this.redis.zrem(this.key(userKey), streamId).catch(() => undefined);
  }

  private remember(userKey: string, streamId: string) {
    let mine = this.local.get(userKey);
    if (!mine) this.local.set(userKey, (mine = new Set()));
    mine.add(streamId);
  }

  private fellBack(err: unknown) {
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn({ errorName: (err as Error)?.name }, 'Redis unavailable: streams per user counted per replica');
  }

  private recovered() {
    if (!this.degraded) return;
    this.degraded = false;
    this.logger.log('streams per user counted on Redis again');
  }
}
