import { z } from 'zod';
import { zodFieldErrors } from './zod';

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
