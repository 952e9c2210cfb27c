/**
 * When to retry a delivery, and how long to wait. Pure functions: the schedule itself is
 * persisted (export_jobs.next_attempt_at), so retries survive restarts of any worker.
 */
export type DeliveryOutcome =
  { kind: 'delivered' } | { kind: 'retry'; reason: string; retryAfterMs?: number } | { kind: 'fail'; reason: string };

export function classifyResponse(status: number, retryAfter?: string | null): DeliveryOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 408 || status === 429 || status >= 500)
    return { kind: 'retry', reason: `receiver answered ${status}`, retryAfterMs: parseRetryAfter(retryAfter) };
  if (status >= 300 && status < 400) return { kind: 'fail', reason: `receiver answered ${status}; redirects are not followed` };
  return { kind: 'fail', reason: `receiver answered ${status}` };
}

export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export const MAX_BACKOFF_MS = 15 * 60_000;

/**
 * Exponential backoff with "equal jitter": attempt n waits between half and all of
 * base·2^(n−1), capped; a receiver's Retry-After is honoured when longer (within the cap).
 */
export function backoffMs(attempt: number, baseMs: number, random: () => number = Math.random, retryAfterMs?: number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.round(Math.min(MAX_BACKOFF_MS, Math.max(jittered, retryAfterMs ?? 0)));
}
