import { ApiError } from '../errors/problem';
import { decodeCursor, encodeCursor } from './paging';

describe('cursor', () => {
  it('round-trips a keyset and is opaque', () => {
    const k = { at: '2026-11-26T10:00:00.123456+00:00', id: '0b9d0c4e-3f2c-4b8e-9a51-1f5f0d7c1a22' };
    const c = encodeCursor(k);
    expect(c).not.toContain(k.id);
    expect(decodeCursor(c)).toEqual(k);
    expect(decodeCursor(undefined)).toBeNull();
  });

  it.each(['garbage', encodeCursor({ at: 'not-a-date', id: 'x' }), Buffer.from('{"a":1}').toString('base64url')])(
    'refuses %s with a 400',
    (c) => {
      expect(() => decodeCursor(c)).toThrow(ApiError);
    },
  );
});
