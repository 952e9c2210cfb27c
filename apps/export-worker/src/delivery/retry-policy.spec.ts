import { MAX_BACKOFF_MS, backoffMs, classifyResponse, parseRetryAfter } from './retry-policy';

describe('retry policy', () => {
  it.each([
    [200, 'delivered'],
    [201, 'delivered'],
    [204, 'delivered'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
    [301, 'fail'],
    [400, 'fail'],
    [401, 'fail'],
    [404, 'fail'],
    [413, 'fail'],
    [422, 'fail'],
  ])('%i → %s', (status, kind) => {
    expect(classifyResponse(status).kind).toBe(kind);
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
    expect(classifyResponse(429, '2')).toEqual({ kind: 'retry', reason: 'receiver answered 429', retryAfterMs: 2000 });
  });
});
