import { DateTime, Duration } from 'luxon';

/** A positive ISO-8601 duration such as `P180D` or `PT5S`, or null if it is not one. */
export function parseRetentionPeriod(value: unknown): Duration | null {
  if (typeof value !== 'string' || value.length > 40 || !/^P/.test(value)) return null;
  const d = Duration.fromISO(value);
  return d.isValid && d.toMillis() > 0 ? d : null;
}

/** creation time + retention period (calendar-aware: P1M from 31 Jan is end of February). */
export function retentionDate(createdAt: Date, period: string): Date {
  const d = parseRetentionPeriod(period);
  if (!d) throw new Error('invalid retention period');
  return DateTime.fromJSDate(createdAt, { zone: 'utc' }).plus(d).toJSDate();
}
