import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { Identity } from '@dvd/contracts';

export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
  headers: Record<string, string>;
}

/** Decides whether a caller may make one more request. */
export interface RateLimiter {
  hit(identity: Identity): Promise<RateDecision>;
}

export interface RateLimits {
  citizen: number;
  official: number;
  windowMs: number;
}

export function limitFor(identity: Identity, limits: RateLimits): number {
  return identity.role === 'citizen' ? limits.citizen : limits.official;
}

function decision(limit: number, allowed: boolean, remaining: number, resetMs: number): RateDecision {
  const reset = Math.max(1, Math.ceil(resetMs / 1000));
  return {
    allowed,
    retryAfterSeconds: allowed ? 0 : reset,
    headers: { 'RateLimit-Limit': String(limit), 'RateLimit-Remaining': String(Math.max(0, remaining)), 'RateLimit-Reset': String(reset) },
  };
}

/**
 * Sliding log over the window, in one atomic script: drop entries older than the window,
 * count, admit (and record) if under the limit. Time comes from the Redis server, so all
 * gateway replicas share one clock as well as one counter.
 * Returns { admitted, remaining, ms until the oldest entry leaves the window }.
 */
const SLIDING_WINDOW = `
local key = KEYS[1]
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
local admitted = 0
if count < limit then
  redis.call('ZADD', key, now, now .. '-' .. ARGV[3])
  count = count + 1
  admitted = 1
end
redis.call('PEXPIRE', key, window)
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local reset = window
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return { admitted, limit - count, reset }
`;

/** In-process sliding log: the fallback while Redis is unreachable (per gateway replica). */
export class LocalSlidingWindow {
  private readonly log = new Map<string, number[]>();

  constructor(private readonly windowMs: number) {}

  hit(key: string, limit: number, now = Date.now()): { admitted: boolean; remaining: number; resetMs: number } {
    const entries = (this.log.get(key) ?? []).filter((t) => t > now - this.windowMs);
    const admitted = entries.length < limit;
    if (admitted) entries.push(now);
    this.log.set(key, entries);
    if (this.log.size > 100_000) this.prune(now);
    return { admitted, remaining: limit - entries.length, resetMs: entries.length ? entries[0] + this.windowMs - now : this.windowMs };
  }

  private prune(now: number) {
    for (const [k, v] of this.log) if (!v.some((t) => t > now - this.windowMs)) this.log.delete(k);
  }
}

/**
 * Per-user limits shared by all gateway replicas through Redis. When Redis does not
 * answer, the gateway keeps limiting with a per-replica in-memory window rather than
 * failing open or closed for everyone (ADR 0008): citizens stay limited (per replica),
 * officials, whose limit is high, are in effect unaffected.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly logger = new Logger(RedisRateLimiter.name);
  private readonly fallback: LocalSlidingWindow;
  private degraded = false;

  constructor(
    private readonly redis: Redis,
    private readonly limits: RateLimits,
    /** The counters' key prefix: one limiter per kind of request (`ratelimit`: requests, `ratelimit-events`: event streams). */
    private readonly name = 'ratelimit',
  ) {
    this.fallback = new LocalSlidingWindow(limits.windowMs);
    redis.defineCommand('dvdSlidingWindow', { numberOfKeys: 1, lua: SLIDING_WINDOW });
  }

  async hit(identity: Identity): Promise<RateDecision> {
    const limit = limitFor(identity, this.limits);
    const key = `${this.name}:${identity.role}:${identity.userId}`;
    try {
      const [admitted, remaining, resetMs] = (await (
        this.redis as Redis & { dvdSlidingWindow: (...a: unknown[]) => Promise<number[]> }
      ).dvdSlidingWindow(key, this.limits.windowMs, limit, Math.random().toString(36).slice(2))) as [number, number, number];
      if (this.degraded) {
        this.degraded = false;
        this.logger.log('rate limiting back on Redis');
      }
      return decision(limit, admitted === 1, remaining, resetMs);
    } catch (err) {
      if (!this.degraded) {
        this.degraded = true;
        this.logger.warn({ errorName: (err as Error).name }, 'Redis unavailable: rate limiting per gateway replica');
      }
      const local = this.fallback.hit(key, limit);
      return decision(limit, local.admitted, local.remaining, local.resetMs);
    }
  }
}
