import type Redis from 'ioredis';
import { IDENTITY_MAX_AGE_SECONDS } from './identity-signature';

/** A signature is valid up to IDENTITY_MAX_AGE_SECONDS either side of now: remember its id twice that long. */
export const NONCE_TTL_MS = 2 * IDENTITY_MAX_AGE_SECONDS * 1000;

/**
 * Accepts each signature id (key id + nonce) once. Redis (`SET NX PX`) makes that hold
 * across replicas; a bounded in-process memory answers repeats on the same replica
 * without a round trip and stands in while Redis is unreachable (then replicas do not
 * share what they saw: a replay to another replica within the window is not caught).
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly redis: Redis | null,
    private readonly maxEntries = 200_000,
    private readonly onRedisError: (err: unknown) => void = () => undefined,
  ) {}

  /** true the first time an id is presented within its lifetime, false for a replay. */
  async firstUse(kid: string, nonce: string, now = Date.now()): Promise<boolean> {
    const id = `${kid}:${nonce}`;
    const until = this.seen.get(id);
    if (until !== undefined && until > now) return false;
    this.remember(id, now + NONCE_TTL_MS, now);
    if (!this.redis) return true;
    try {
      return (await this.redis.set(`identity-nonce:${id}`, '1', 'PX', NONCE_TTL_MS, 'NX')) === 'OK';
    } catch (err) {
      this.onRedisError(err);
      return true;
    }
  }

  private remember(id: string, until: number, now: number) {
    this.seen.delete(id);
    this.seen.set(id, until);
    // Map keeps insertion order: the oldest entries come first
    for (const [k, expires] of this.seen) {
      if (this.seen.size <= this.maxEntries && expires > now) break;
      this.seen.delete(k);
    }
  }
}
