import { ApiError } from '../errors/problem';
import { decodeCursor, encodeCursor, keysetPage } from './paging';

describe('cursor', () => {
  it('round-trips a keyset and is opaque', () => {
    const k = { at: '2026-11-26T10:00:00.123456+00:00', id: '0b9d0c4e-3f2c-4b8e-9a51-1f5f0d7c1a22' };
    const c = encodeCursor(k);
    expect(c).not.toContain(k.id);
    expect(decodeCursor(c)).toEqual(k);
    expect(decodeCursor(undefined)).toBeNull();
  });

  it.each([
    'garbage',
    encodeCursor({ at: 'not-a-date', id: 'x' }),
    Buffer.from('{"a":1}').toString('base64url'),
    // what once reached Postgres and failed there (500)
    encodeCursor({ at: '2026-11-26T10:00:00.123456Z', id: 'not-a-uuid' }),
    encodeCursor({ at: '1', id: '0b9d0c4e-3f2c-4b8e-9a51-1f5f0d7c1a22' }),
    encodeCursor({ at: '2026-02-30T10:00:00Z', id: '0b9d0c4e-3f2c-4b8e-9a51-1f5f0d7c1a22' }),
    encodeCursor({ at: 'Tue, 26 Nov 2026 10:00:00 GMT', id: '0b9d0c4e-3f2c-4b8e-9a51-1f5f0d7c1a22' }),
    encodeCursor({ at: '+275760-09-13T00:00:00Z', id: '0b9d0c4e-3f2c-4b8e-9a51-1f5f0d7c1a22' }),
    'x'.repeat(501),
    'a.b',
  ])('refuses %s with a 400', (c) => {
    expect(() => decodeCursor(c)).toThrow(ApiError);
  });

  it('accepts what keysetTimestampSql() produces', () => {
    const k = { at: '2026-11-26T10:00:00.000001Z', id: '0b9d0c4e-3f2c-4b8e-9a51-1f5f0d7c1a22' };
    expect(decodeCursor(encodeCursor(k))).toEqual(k);
  });

  it('names the field and never echoes the cursor', () => {
    const forged = encodeCursor({ at: '2026-11-26T10:00:00Z', id: 'secret-looking' });
    try {
      decodeCursor(forged);
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      const body = JSON.stringify((err as ApiError).errors);
      expect(body).toContain('cursor');
      expect(body).not.toContain(forged);
      expect((err as ApiError).status).toBe(400);
    }
  });
});

describe('keysetPage', () => {
  const rows = [1, 2, 3].map((n) => ({ id: `0b9d0c4e-3f2c-4b8e-9a51-1f5f0d7c1a2${n}`, at: `2026-11-26T10:00:0${n}.000001Z` }));
  const keyOf = (r: { id: string; at: string }) => ({ at: r.at, id: r.id });

  it('keeps `limit` rows and points the cursor after the last kept row when the extra row shows there is more', () => {
    const page = keysetPage(rows, 2, keyOf);
    expect(page.items).toEqual(rows.slice(0, 2));
    expect(page.nextCursor).not.toBeNull();
    expect(decodeCursor(page.nextCursor!)).toEqual(keyOf(rows[1]!));
  });

  it('has no cursor on the last page (no extra row), full or partial', () => {
    expect(keysetPage(rows, 3, keyOf)).toEqual({ items: rows, nextCursor: null });
    expect(keysetPage(rows.slice(0, 1), 3, keyOf)).toEqual({ items: rows.slice(0, 1), nextCursor: null });
  });

  it('answers an empty page for no rows', () => {
    expect(keysetPage([], 20, keyOf)).toEqual({ items: [], nextCursor: null });
  });

  it('takes the keyset from the row as told (another id column)', () => {
    const decided = [
      { document_id: rows[0]!.id, at: rows[0]!.at },
      { document_id: rows[1]!.id, at: rows[1]!.at },
    ];
    const page = keysetPage(decided, 1, (r) => ({ at: r.at, id: r.document_id }));
    expect(decodeCursor(page.nextCursor!)).toEqual({ at: rows[0]!.at, id: rows[0]!.id });
  });
});
