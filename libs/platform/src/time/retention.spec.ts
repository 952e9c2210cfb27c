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
