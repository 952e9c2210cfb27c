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

/** Used until the Redis sliding-window limiter lands (issue 7): allows everything. */
export class UnlimitedRateLimiter implements RateLimiter {
  async hit(): Promise<RateDecision> {
    return { allowed: true, retryAfterSeconds: 0, headers: {} };
  }
}
