/**
 * When to retry a delivery, and how long to wait. Pure functions: the schedule itself is
 * persisted (export_jobs.next_attempt_at), so retries survive restarts of any worker.
 *
 * Reasons are categories, never the receiver's answer or an error's text: they end up in
 * `lastError` (shown to the authority), in export.failed events and in logs, and a
 * receiver's answer may be anything (including what an internal service said, if a guard
 * ever failed).
 */
export type DeliveryCategory =
  | 'target-forbidden'
  | 'invalid-target'
  | 'dns'
  | 'timeout'
  | 'connection-refused'
  | 'connection-reset'
  | 'tls'
  | 'network'
  | 'http-3xx'
  | 'http-4xx'
  | 'http-5xx'
  | 'receipt-too-large'
  | 'invalid-receipt'
  | 'secret-unavailable';

export type DeliveryOutcome =
  { kind: 'delivered' } | { kind: 'retry'; reason: DeliveryCategory; retryAfterMs?: number } | { kind: 'fail'; reason: DeliveryCategory };

export function classifyResponse(status: number, retryAfter?: string | null): DeliveryOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 408 || status === 429) return { kind: 'retry', reason: 'http-4xx', retryAfterMs: parseRetryAfter(retryAfter) };
  if (status >= 500) return { kind: 'retry', reason: 'http-5xx', retryAfterMs: parseRetryAfter(retryAfter) };
  // redirects are not followed: the receiver must be configured with its final URL
  if (status >= 300 && status < 400) return { kind: 'fail', reason: 'http-3xx' };
  return { kind: 'fail', reason: 'http-4xx' };
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_OSSL_|HOSTNAME_MISMATCH)/;

/** A failed request (no HTTP answer) by its error code or name; a forbidden target is final. */
export function classifyError(err: unknown): DeliveryOutcome {
  const e = (err ?? {}) as { code?: unknown; name?: unknown; cause?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const name = typeof e.name === 'string' ? e.name : '';
  if (code === 'ERR_DVD_TARGET_FORBIDDEN') return { kind: 'fail', reason: 'target-forbidden' };
  if (code === 'ERR_INVALID_URL') return { kind: 'fail', reason: 'invalid-target' };
  if (['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'].includes(code) || name === 'TimeoutError')
    return { kind: 'retry', reason: 'timeout' };
  if (code === 'ECONNREFUSED') return { kind: 'retry', reason: 'connection-refused' };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') return { kind: 'retry', reason: 'dns' };
  if (TLS_CODES.test(code)) return { kind: 'retry', reason: 'tls' };
  if (['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'].includes(code)) return { kind: 'retry', reason: 'connection-reset' };
  if (e.cause && e.cause !== err) return classifyError(e.cause);
  return { kind: 'retry', reason: 'network' };
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
