/** Default backoff: 5 s, 30 s, 2 min, 5 min (7 min 35 s in all with EVENT_MAX_DELIVERIES = 5). */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [5_000, 30_000, 120_000, 300_000];

/**
 * When to try a failed event again: the delay before attempt `n + 1` after `n` failed
 * attempts. `maxDeliveries` attempts in all; after the last one the event is dead-lettered.
 * Delays beyond the configured list repeat its last entry.
 */
export class RetrySchedule {
  constructor(
    readonly delaysMs: readonly number[],
    readonly maxDeliveries: number,
  ) {
    if (delaysMs.length === 0 || delaysMs.some((d) => !Number.isInteger(d) || d <= 0))
      throw new Error('retry delays must be positive integers');
    if (!Number.isInteger(maxDeliveries) || maxDeliveries < 1) throw new Error('maxDeliveries must be a positive integer');
  }

  /** Delay before the next attempt after `failedAttempts` failures, or null when the event is out of attempts. */
  delayAfter(failedAttempts: number): number | null {
    if (failedAttempts >= this.maxDeliveries) return null;
    return this.delaysMs[Math.min(Math.max(failedAttempts, 1), this.delaysMs.length) - 1];
  }

  /** Every delay the schedule can use (one delay queue each). */
  distinctDelays(): number[] {
    const used = new Set<number>();
    for (let n = 1; n < this.maxDeliveries; n++) used.add(this.delayAfter(n)!);
    return [...used].sort((a, b) => a - b);
  }

  /** How long an event keeps being retried before it is dead-lettered (the sum of its delays). */
  windowMs(): number {
    let total = 0;
    for (let n = 1; n < this.maxDeliveries; n++) total += this.delayAfter(n)!;
    return total;
  }
}

/** Parses `EVENT_RETRY_DELAYS_MS`: comma-separated milliseconds, e.g. `5000,30000,120000,300000`. */
export function parseRetryDelays(value: string): number[] | null {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.length > 20) return null;
  const delays = parts.map((p) => (/^\d{1,9}$/.test(p) ? Number(p) : NaN));
  return delays.every((d) => Number.isInteger(d) && d > 0 && d <= 86_400_000) ? delays : null;
}
