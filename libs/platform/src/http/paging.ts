import { ApiError } from '../errors/problem';

export interface Keyset {
  /** ISO timestamp with microseconds as Postgres returns it (text), to avoid JS Date's millisecond rounding. */
  at: string;
  id: string;
}

/**
 * SQL for a keyset timestamp as text with microseconds in UTC — what cursors carry, so
 * that JS Date's millisecond rounding can never skip or repeat a row.
 */
export function keysetTimestampSql(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** One page of a keyset-paged list, as every list endpoint answers it. */
export interface KeysetPage<T> {
  items: T[];
  /** Cursor after the last item, or null on the last page. */
  nextCursor: string | null;
}

/**
 * Assembles a page from the rows of a query with `LIMIT limit + 1` (ordered by the keyset):
 * the first `limit` rows, and the cursor after the last of them only if the extra row
 * proved there is more. `keyOf` names the row's keyset (timestamp text from
 * keysetTimestampSql(), id).
 */
export function keysetPage<T>(rows: readonly T[], limit: number, keyOf: (row: T) => Keyset): KeysetPage<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}

/** Opaque cursor over the `(created_at, id)` keyset: stable under inserts. */
export function encodeCursor(k: Keyset): string {
  return Buffer.from(JSON.stringify([k.at, k.id]), 'utf8').toString('base64url');
}

/** What keysetTimestampSql() produces: UTC, seconds, up to microseconds. */
const KEYSET_AT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d{1,6})?(?:Z|[+-]00:00)$/;
const CURSOR_TEXT = /^[A-Za-z0-9_-]{1,500}$/;

/**
 * Decodes a cursor of encodeCursor(), or answers 400. Everything a query will bind is
 * checked here — a real calendar timestamp (JS would roll 2024-02-30 over, Postgres
 * refuses it) and a uuid — so a forged cursor can never reach the database as an error.
 */
export function decodeCursor(cursor: string | undefined): Keyset | null {
  if (cursor === undefined || cursor === '') return null;
  try {
    if (CURSOR_TEXT.test(cursor)) {
      const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && isKeysetAt(v[0]) && isUuid(v[1])) {
        return { at: v[0], id: v[1] };
      }
    }
  } catch {
    // fall through
  }
  throw ApiError.badRequest('The cursor is not valid', [{ field: 'cursor', message: 'is not a cursor this API issued' }]);
}

function isKeysetAt(at: string): boolean {
  const m = KEYSET_AT.exec(at);
  if (!m) return false;
  const t = Date.parse(at);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 19) === m[1];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids in paths are uuids; anything else cannot exist (answer 404 without a query). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
