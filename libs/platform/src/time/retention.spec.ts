import { DateTime, Duration } from 'luxon';
import { parseRetentionPeriod, plusDuration, retentionDate } from './retention';

describe('retention periods', () => {
  it.each(['P180D', 'PT5S', 'PT2S', 'P1Y2M', 'P1W', 'P1DT12H', 'PT0.5S'])('accepts %s', (v) => {
    expect(parseRetentionPeriod(v)).not.toBeNull();
  });
  it.each(['', 'P', 'PT', 'P0D', '-P1D', '180D', 'P180', 'forever', 'P1D ', 42])('refuses %p', (v) => {
    expect(parseRetentionPeriod(v)).toBeNull();
  });
  it('adds the period to the creation time in UTC', () => {
    expect(retentionDate(new Date('2026-01-31T10:00:00Z'), 'P1M').toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(retentionDate(new Date('2026-11-26T10:00:00Z'), 'PT5S').toISOString()).toBe('2026-11-26T10:00:05.000Z');
  });
  it('adds a claim deadline the same way', () => {
    expect(plusDuration(new Date('2026-11-26T10:00:00Z'), 'P3D').toISOString()).toBe('2026-11-29T10:00:00.000Z');
    expect(plusDuration(new Date('2026-11-26T10:00:00Z'), 'PT2S').toISOString()).toBe('2026-11-26T10:00:02.000Z');
    expect(() => plusDuration(new Date(), 'P0D')).toThrow('invalid duration');
  });
});

describe('adding a duration', () => {
  const starts = ['2026-01-31T10:00:00Z', '2026-03-28T23:30:00Z', '2026-10-24T22:15:30.250Z', '2028-02-28T12:00:00Z'].map(
    (s) => new Date(s),
  );
  it.each(['P180D', 'P1W', 'P1DT12H', 'PT0.5S', 'PT36H', 'P2W3D', 'P1M', 'P1Y2M', 'P1Y1D', 'P2M3DT4H'])(
    'gives what luxon gives in UTC for %s (fixed lengths without it, months and years with it)',
    (period) => {
      const duration = Duration.fromISO(period);
      for (const at of starts) {
        const expected = DateTime.fromJSDate(at, { zone: 'utc' }).plus(duration).toJSDate();
        expect(plusDuration(at, period).toISOString()).toBe(expected.toISOString());
        expect(plusDuration(at, period).toISOString()).toBe(expected.toISOString()); // again, remembered
      }
    },
  );
  it('keeps a bounded number of parsed strings and still parses every one', () => {
    for (let i = 1; i <= 600; i++) expect(plusDuration(new Date(0), `PT${i}S`).getTime()).toBe(i * 1000);
    expect(plusDuration(new Date(0), 'PT1S').getTime()).toBe(1000);
    expect(parseRetentionPeriod('P0D')).toBeNull();
    expect(parseRetentionPeriod('P0D')).toBeNull();
  });
});
