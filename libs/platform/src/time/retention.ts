import { DateTime, Duration } from 'luxon';

/** A positive ISO-8601 duration such as `P3D`, `P180D` or `PT5S` (at most 40 characters), or null if it is not one. */
export function parsePositiveDuration(value: unknown): Duration | null {
  if (typeof value !== 'string' || value.length > 40 || !/^P/.test(value)) return null;
  const d = Duration.fromISO(value);
  return d.isValid && d.toMillis() > 0 ? d : null;
}

/** A retention period is a positive ISO-8601 duration. */
export const parseRetentionPeriod = parsePositiveDuration;

/** `at` plus a positive ISO-8601 duration, calendar-aware in UTC (P1M from 31 Jan is end of February). */
export function plusDuration(at: Date, period: string): Date {
  const d = parsePositiveDuration(period);
  if (!d) throw new Error('invalid duration');
  return DateTime.fromJSDate(at, { zone: 'utc' }).plus(d).toJSDate();
}

/** creation time + retention period. */
export function retentionDate(createdAt: Date, period: string): Date {
  const d = parseRetentionPeriod(period);
  if (!d) throw new Error('invalid retention period');
  return plusDuration(createdAt, period);
}
