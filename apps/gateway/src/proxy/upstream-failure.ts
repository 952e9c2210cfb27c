import { ApiError } from '@dvd/platform';

/** The service could not be reached or dropped the connection before answering: retry soon. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const UPSTREAM_RETRY_AFTER_S = '2';

/**
 * One upstream failure, one answer (ADR 0013): not reachable / refused / reset before an
 * answer → 503 `upstream-unavailable` with Retry-After; no answer within
 * UPSTREAM_TIMEOUT_MS → 504 `upstream-timeout`; anything else (a malformed answer) → 502.
 */
export function upstreamFailure(code: string | undefined, timedOut: boolean): ApiError {
  if (timedOut || code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') {
    return new ApiError(504, 'upstream-timeout', 'Gateway Timeout', 'The responsible service did not answer in time');
  }
  if (code && UNREACHABLE_CODES.has(code)) {
    return new ApiError(
      503,
      'upstream-unavailable',
      'Service Unavailable',
      'The responsible service is unavailable; retry later',
      undefined,
      { 'Retry-After': UPSTREAM_RETRY_AFTER_S },
    );
  }
  return new ApiError(502, 'bad-gateway', 'Bad Gateway', 'The responsible service answered with an invalid response');
}
