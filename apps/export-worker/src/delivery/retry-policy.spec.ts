import { MAX_BACKOFF_MS, backoffMs, classifyError, classifyResponse, parseRetryAfter } from './retry-policy';

describe('retry policy', () => {
  it.each([
    [200, 'delivered', undefined],
    [201, 'delivered', undefined],
    [204, 'delivered', undefined],
    [408, 'retry', 'http-4xx'],
    [429, 'retry', 'http-4xx'],
    [500, 'retry', 'http-5xx'],
    [503, 'retry', 'http-5xx'],
    [504, 'retry', 'http-5xx'],
    [301, 'fail', 'http-3xx'],
    [400, 'fail', 'http-4xx'],
    [401, 'fail', 'http-4xx'],
    [404, 'fail', 'http-4xx'],
    [413, 'fail', 'http-4xx'],
    [422, 'fail', 'http-4xx'],
  ])('%i → %s (%s)', (status, kind, reason) => {
    const outcome = classifyResponse(status);
    expect(outcome.kind).toBe(kind);
    expect((outcome as { reason?: string }).reason).toBe(reason);
  });

  it.each([
    [{ code: 'ERR_DVD_TARGET_FORBIDDEN' }, 'fail', 'target-forbidden'],
    [{ code: 'ERR_INVALID_URL' }, 'fail', 'invalid-target'],
    [{ code: 'UND_ERR_HEADERS_TIMEOUT' }, 'retry', 'timeout'],
    [{ code: 'UND_ERR_CONNECT_TIMEOUT' }, 'retry', 'timeout'],
    [{ name: 'TimeoutError' }, 'retry', 'timeout'],
    [{ code: 'ECONNREFUSED' }, 'retry', 'connection-refused'],
    [{ code: 'ENOTFOUND' }, 'retry', 'dns'],
    [{ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'retry', 'tls'],
    [{ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'retry', 'tls'],
    [{ code: 'ECONNRESET' }, 'retry', 'connection-reset'],
    [{ name: 'TypeError', cause: { code: 'ECONNREFUSED' } }, 'retry', 'connection-refused'],
    [{ message: 'whatever the receiver said' }, 'retry', 'network'],
    [undefined, 'retry', 'network'],
  ])('error %j → %s %s', (err, kind, reason) => {
    expect(classifyError(err)).toEqual({ kind, reason });
  });

  it('grows exponentially with jitter between half and the full step', () => {
    expect(backoffMs(1, 1000, () => 0)).toBe(500);
    expect(backoffMs(1, 1000, () => 1)).toBe(1000);
    expect(backoffMs(3, 1000, () => 0)).toBe(2000);
    expect(backoffMs(3, 1000, () => 1)).toBe(4000);
    expect(backoffMs(30, 1000, () => 1)).toBe(MAX_BACKOFF_MS);
  });

  it('honours Retry-After in seconds or as a date', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter(new Date(10_000 + 3000).toUTCString(), 10_000)).toBe(3000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(backoffMs(1, 100, () => 0, 5000)).toBe(5000);
    expect(classifyResponse(429, '2')).toEqual({ kind: 'retry', reason: 'http-4xx', retryAfterMs: 2000 });
  });
});
