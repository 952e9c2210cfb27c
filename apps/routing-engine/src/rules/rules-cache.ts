import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { REDIS } from '@dvd/platform';
import { RuleForEvaluation } from './rule-evaluation';

export const RULES_CACHE_TTL_SECONDS = 3600;

/**
 * Rule sets in Redis, keyed by authority *and* rules version. The version lives in the
 * authority's Postgres row and rises in the same transaction as any rule change, so the
 * next document on any replica reads the new version and can never hit a stale entry:
 * invalidation has no race with concurrent readers. Redis is only a cache: every
 * failure falls back to Postgres.
 */
@Injectable()
export class RulesCache {
  private readonly logger = new Logger(RulesCache.name);

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  private key(authorityId: string, version: number) {
    return `routing:rules:${authorityId}:v${version}`;
  }

  async get(authorityId: string, version: number, load: () => Promise<RuleForEvaluation[]>): Promise<RuleForEvaluation[]> {
    const key = this.key(authorityId, version);
    try {
      const hit = await this.redis.get(key);
      if (hit) return JSON.parse(hit) as RuleForEvaluation[];
    } catch (err) {
      this.logger.warn({ authorityId, errorName: (err as Error).name }, 'rules cache unavailable; reading Postgres');
      return load();
    }
    const rules = await load();
    await this.redis.set(key, JSON.stringify(rules), 'EX', RULES_CACHE_TTL_SECONDS).catch(() => undefined);
    return rules;
  }

  /** Drops superseded entries (hygiene only: versioned keys are never read again). */
  async forget(authorityId: string, version: number): Promise<void> {
    await this.redis.del(this.key(authorityId, version)).catch(() => undefined);
  }
}
