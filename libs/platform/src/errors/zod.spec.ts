import { z } from 'zod';
import { ApiError } from './problem';
import { isSafeText, parseOrThrow, plainText, zodFieldErrors } from './zod';

describe('zodFieldErrors', () => {
  it('names fields and rules but never echoes the values received', () => {
    const schema = z.object({ type: z.enum(['CHAT', 'CALLBACK']), n: z.number(), k: z.literal('x') }).strict();
    const result = schema.safeParse({ type: 'Frau Erika Mustermann', n: 'AZ-4711', k: 'y', extra: 'secret' });
    expect(result.success).toBe(false);
    const errors = zodFieldErrors((result as z.SafeParseError<unknown>).error);
    expect(errors.map((e) => e.field).sort()).toEqual(['extra', 'k', 'n', 'type']);
    const text = JSON.stringify(errors);
    for (const value of ['Erika', 'AZ-4711', '"y"', 'secret']) expect(text).not.toContain(value);
  });
});

describe('plainText', () => {
  const unsafe: Array<[string, string]> = [
    ['NUL', '\u0000'],
    ['a C0 control (ESC)', '\u001b'],
    ['DEL', '\u007f'],
    ['a C1 control (U+0080)', '\u0080'],
    ['a C1 control (CSI, U+009B)', '\u009b'],
    ['a C1 control (U+009F)', '\u009f'],
    ['ARABIC LETTER MARK', '\u061c'],
    ['ZERO WIDTH SPACE', '\u200b'],
    ['ZERO WIDTH NON-JOINER', '\u200c'],
    ['ZERO WIDTH JOINER', '\u200d'],
    ['LEFT-TO-RIGHT MARK', '\u200e'],
    ['RIGHT-TO-LEFT MARK', '\u200f'],
    ['LINE SEPARATOR', '\u2028'],
    ['LEFT-TO-RIGHT EMBEDDING', '\u202a'],
    ['RIGHT-TO-LEFT OVERRIDE', '\u202e'],
    ['WORD JOINER', '\u2060'],
    ['LEFT-TO-RIGHT ISOLATE', '\u2066'],
    ['POP DIRECTIONAL ISOLATE', '\u2069'],
    ['BOM / ZERO WIDTH NO-BREAK SPACE', '\ufeff'],
  ];

  it.each(unsafe)('refuses %s anywhere in the value, naming the field and not echoing the value', (_name, ch) => {
    const schema = z.object({ referenceNumber: plainText({ max: 50 }) });
    for (const value of [`${ch}AZ-4711`, `AZ${ch}-4711`, `AZ-4711${ch}`]) {
      expect(isSafeText(value)).toBe(false);
      let error: unknown;
      try {
        parseOrThrow(schema, { referenceNumber: value });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ApiError);
      const e = error as ApiError;
      expect(e.status).toBe(400);
      expect(e.errors).toEqual([{ field: 'referenceNumber', message: expect.stringContaining('invisible') }]);
      expect(JSON.stringify(e)).not.toContain('4711');
    }
  });

  it.each(['AZ-4711/2026', 'Bürgeramt Köln-Mülheim', 'Straße & Söhne', 'Ämter (Nord) – Süd', 'مكتب', '東京都庁', 'Ünal Çelik'])(
    'accepts ordinary text %p',
    (value) => {
      expect(plainText({ max: 200 }).parse(value)).toBe(value);
    },
  );

  it('keeps the length bounds and trims when asked', () => {
    expect(plainText({ max: 3 }).safeParse('abcd').success).toBe(false);
    expect(plainText({ max: 3 }).safeParse('').success).toBe(false);
    expect(plainText({ max: 5, trim: true }).parse('  ab  ')).toBe('ab');
  });
});
