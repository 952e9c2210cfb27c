import { PURGE_BACKOFF_MAX_MS, purgeBackoffMs, safeErrorCode } from './purge-backoff';

describe('purge backoff', () => {
  it('doubles from one minute and stops at six hours', () => {
    expect([1, 2, 3, 4].map(purgeBackoffMs)).toEqual([60_000, 120_000, 240_000, 480_000]);
    expect(purgeBackoffMs(9)).toBe(256 * 60_000);
    expect(purgeBackoffMs(10)).toBe(PURGE_BACKOFF_MAX_MS);
    expect(purgeBackoffMs(10_000)).toBe(PURGE_BACKOFF_MAX_MS);
    expect(purgeBackoffMs(0)).toBe(60_000);
  });

  it('keeps error codes and class names, never messages', () => {
    expect(safeErrorCode(Object.assign(new Error('Access Denied for documents/123'), { name: 'AccessDenied' }))).toBe('AccessDenied');
    expect(safeErrorCode({ code: '57P01', message: 'terminating connection' })).toBe('57P01');
    expect(safeErrorCode({ name: 'no such key documents/42 for AZ-4711' })).toBe('Error');
    expect(safeErrorCode(undefined)).toBe('Error');
  });
});
