import { DEFAULT_RETRY_DELAYS_MS, RetrySchedule, parseRetryDelays } from './retry-schedule';

describe('RetrySchedule', () => {
  it('by default keeps retrying for longer than a five-minute outage', () => {
    const s = new RetrySchedule(DEFAULT_RETRY_DELAYS_MS, 5);
    expect(s.windowMs()).toBeGreaterThan(5 * 60_000);
    expect([1, 2, 3, 4, 5].map((n) => s.delayAfter(n))).toEqual([5_000, 30_000, 120_000, 300_000, null]);
  });

  it('repeats the last delay and uses only the delays it needs', () => {
    expect([1, 2, 3, 4].map((n) => new RetrySchedule([10, 20], 4).delayAfter(n))).toEqual([10, 20, 20, null]);
    expect(new RetrySchedule([10, 20, 30], 2).distinctDelays()).toEqual([10]);
    expect(new RetrySchedule([10], 1).delayAfter(1)).toBeNull();
  });

  it('parses EVENT_RETRY_DELAYS_MS and rejects nonsense', () => {
    expect(parseRetryDelays('5000, 30000,120000')).toEqual([5000, 30000, 120000]);
    for (const bad of ['', '0', '-1', '1.5', 'abc', '1,,2', '86400001', Array(21).fill('1').join(',')])
      expect(parseRetryDelays(bad)).toBeNull();
  });
});
