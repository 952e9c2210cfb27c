import { z } from 'zod';
import { ApiError } from '../errors/problem';

/** `?limit=` (1–100, default 20) and `?cursor=` (opaque), as API.md defines for every list. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(500).optional(),
};

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

/** Opaque cursor over the `(created_at, id)` keyset: stable under inserts. */
export function encodeCursor(k: Keyset): string {
  return Buffer.from(JSON.stringify([k.at, k.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): Keyset | null {
  if (!cursor) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && !Number.isNaN(Date.parse(v[0]))) {
      return { at: v[0], id: v[1] };
    }
  } catch {
    // fall through
  }
  throw ApiError.badRequest('The cursor is not valid', [{ field: 'cursor', message: 'is not a cursor this API issued' }]);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids in paths are uuids; anything else cannot exist (answer 404 without a query). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
