import { DateTime, Duration } from 'luxon';

/**
 * Durations come from a handful of authority settings (retention period, claim deadline)
 * and are applied on every upload and every routing: each string is parsed once. Bounded,
 * the oldest forgotten first, because a string may come from outside.
 */
const REMEMBERED = 256;
const parsed = new Map<string, { duration: Duration; fixedMs: number | null } | null>();

function parse(value: unknown): { duration: Duration; fixedMs: number | null } | null {
  if (typeof value !== 'string' || value.length > 40 || !value.startsWith('P')) return null;
  const known = parsed.get(value);
  if (known !== undefined) return known;
  const d = Duration.fromISO(value);
  const result =
    d.isValid && d.toMillis() > 0
      ? // weeks, days and shorter have one length in UTC; months and years depend on the date
        { duration: d, fixedMs: d.years || d.quarters || d.months ? null : d.toMillis() }
      : null;
  if (parsed.size >= REMEMBERED) parsed.delete(parsed.keys().next().value as string);
  parsed.set(value, result);
  return result;
}

/** A positive ISO-8601 duration such as `P3D`, `P180D` or `PT5S` (at most 40 characters), or null if it is not one. */
export function parsePositiveDuration(value: unknown): Duration | null {
  return parse(value)?.duration ?? null;
}

/** A retention period is a positive ISO-8601 duration. */
export const parseRetentionPeriod = parsePositiveDuration;

/** `at` plus a positive ISO-8601 duration, calendar-aware in UTC (P1M from 31 Jan is end of February). */
export function plusDuration(at: Date, period: string): Date {
  const p = parse(period);
  if (!p) throw new Error('invalid duration');
  if (p.fixedMs !== null) return new Date(at.getTime() + p.fixedMs);
  return DateTime.fromJSDate(at, { zone: 'utc' }).plus(p.duration).toJSDate();
}

/** creation time + retention period. */
export function retentionDate(createdAt: Date, period: string): Date {
  if (!parse(period)) throw new Error('invalid retention period');
  return plusDuration(createdAt, period);
}
