import fc from 'fast-check';
import { HeapPeak } from '@dvd/testing';
import { ALLOWED_KEY_ALGS, JWE_JSON_LIMITS, JweInspector, JweRule, JweSummary, JweValidationError, inspectJwe } from './jwe-inspector';

const B64URL_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('');
const b64url = (minLength: number, maxLength: number) => fc.string({ unit: fc.constantFrom(...B64URL_CHARS), minLength, maxLength });
const kidArb = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'.split('')), minLength: 1, maxLength: 40 });
const header = (h: object) => Buffer.from(JSON.stringify(h)).toString('base64url');
const MiB = 1024 * 1024;

/** Inspects in chunks of `chunkSize`; the rule, 'ok' and the summary, or the unexpected error. */
async function inspect(data: Buffer, chunkSize = data.length || 1): Promise<{ outcome: JweRule | 'ok'; summary?: JweSummary }> {
  const inspector = new JweInspector();
  try {
    for (let i = 0; i < data.length; i += chunkSize) inspector.push(data.subarray(i, i + chunkSize));
    const summary = await inspector.finish();
    return { outcome: 'ok', summary };
  } catch (err) {
    if (err instanceof JweValidationError) return { outcome: err.rule };
    throw err; // a crash: the property fails
  }
}

interface Generated {
  text: string;
  kids: string[];
  algs: string[];
}

const recipientArb = fc.record({
  alg: fc.constantFrom('RSA-OAEP-256', 'ECDH-ES+A256KW'),
  kid: fc.option(kidArb, { nil: undefined }),
  encryptedKey: b64url(1, 700),
  epk: fc.boolean(),
  epkX: b64url(43, 43),
});

/** Valid containers: flattened or general, any of the allowed algorithms, with and without aad, pretty or not. */
const validContainer: fc.Arbitrary<Generated> = fc
  .record({
    general: fc.boolean(),
    recipients: fc.array(recipientArb, { minLength: 1, maxLength: 5 }),
    direct: fc.boolean(),
    directKid: fc.option(kidArb, { nil: undefined }),
    iv: b64url(16, 16),
    tag: b64url(22, 22),
    ciphertext: b64url(1, 3000),
    aad: fc.option(b64url(0, 100), { nil: undefined }),
    indent: fc.constantFrom(0, 1, 2, '\t'),
    extraProtected: fc.dictionary(fc.constantFrom('zip-no', 'x-app', 'cty'), fc.string({ maxLength: 20 }), { maxKeys: 2 }),
  })
  .map((g) => {
    const base = { iv: g.iv, ciphertext: g.ciphertext, tag: g.tag, ...(g.aad !== undefined ? { aad: g.aad } : {}) };
    if (!g.general && g.direct) {
      const h = { alg: 'ECDH-ES', enc: 'A256GCM', ...(g.directKid ? { kid: g.directKid } : {}), ...g.extraProtected };
      return {
        text: JSON.stringify({ protected: header(h), ...base }, null, g.indent),
        kids: g.directKid ? [g.directKid] : [],
        algs: ['ECDH-ES'],
      };
    }
    const own = (r: (typeof g.recipients)[number]) => ({
      alg: r.alg,
      ...(r.kid ? { kid: r.kid } : {}),
      ...(r.epk && r.alg.startsWith('ECDH') ? { epk: { kty: 'EC', crv: 'P-256', x: r.epkX, y: r.epkX } } : {}),
    });
    const recipients = g.general ? g.recipients : g.recipients.slice(0, 1);
    const prot = header({ enc: 'A256GCM', ...g.extraProtected });
    const doc = g.general
      ? { protected: prot, recipients: recipients.map((r) => ({ header: own(r), encrypted_key: r.encryptedKey })), ...base }
      : { protected: prot, header: own(recipients[0]), encrypted_key: recipients[0].encryptedKey, ...base };
    return {
      text: JSON.stringify(doc, null, g.indent),
      kids: recipients.flatMap((r) => (r.kid ? [r.kid] : [])),
      algs: recipients.map((r) => r.alg),
    };
  });

describe('JWE JSON serialization as a bounded token stream', () => {
  it('accepts every valid container, in any chunking, with the right summary', async () => {
    await fc.assert(
      fc.asyncProperty(validContainer, fc.integer({ min: 1, max: 5000 }), async (c, chunk) => {
        const { outcome, summary } = await inspect(Buffer.from(c.text), chunk);
        expect(outcome).toBe('ok');
        expect(summary).toEqual({ format: 'json', kids: c.kids, algs: c.algs });
      }),
      { numRuns: 300 },
    );
    expect(ALLOWED_KEY_ALGS).toContain('ECDH-ES');
  });

  it('refuses a container with any member a JWE does not have, whatever its value', async () => {
    const known = new Set(['protected', 'unprotected', 'header', 'encrypted_key', 'recipients', 'aad', 'iv', 'ciphertext', 'tag']);
    await fc.assert(
      fc.asyncProperty(
        validContainer,
        fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !known.has(k)),
        fc.jsonValue(),
        fc.boolean(),
        async (c, key, value, first) => {
          const doc = JSON.parse(c.text) as Record<string, unknown>;
          const text = first ? JSON.stringify({ [key]: value, ...doc }) : JSON.stringify({ ...doc, [key]: value });
          expect((await inspect(Buffer.from(text))).outcome).toBe('malformed-jwe');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses truncated containers and never crashes on mutated ones', async () => {
    await fc.assert(
      fc.asyncProperty(
        validContainer,
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 512 }),
        async (c, cutAt, flips, chunk) => {
          const whole = Buffer.from(c.text.trimEnd());
          const cut = whole.subarray(0, cutAt % whole.length);
          expect((await inspect(cut, chunk)).outcome).not.toBe('ok');
          const mutated = Buffer.from(whole);
          for (const [at, byte] of flips) mutated[at % mutated.length] = byte;
          const { outcome } = await inspect(mutated, chunk); // 'ok' is possible (e.g. a ciphertext character swapped)
          expect(typeof outcome).toBe('string');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses random JSON objects and random bytes with a rule', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.json({ maxDepth: 12 }), fc.uint8Array({ maxLength: 2000 })), async (input) => {
        const { outcome } = await inspect(Buffer.from(input as string | Uint8Array));
        expect(outcome).not.toBe('ok');
      }),
      { numRuns: 500 },
    );
  });

  it.each<[string, string, JweRule]>([
    ['too many recipients', `{"recipients":[${'{},'.repeat(JWE_JSON_LIMITS.maxRecipients)}{}]}`, 'header-too-large'],
    ['too deep a header', `{"unprotected":{"a":${'['.repeat(10)}`, 'malformed-jwe'],
    ['too long a member name', `{"${'p'.repeat(300)}":1}`, 'malformed-jwe'],
    ['a duplicate member', '{"iv":"AAAAAAAAAAAAAAAA","iv":"AAAAAAAAAAAAAAAA"}', 'malformed-jwe'],
    ['a duplicate header parameter', '{"header":{"alg":"ECDH-ES","alg":"ECDH-ES"}}', 'malformed-jwe'],
    ['a recipient with an unknown member', '{"recipients":[{"kid":"x"}]}', 'malformed-jwe'],
    ['a recipient that is no object', '{"recipients":["x"]}', 'malformed-jwe'],
    ['a string where an object belongs', '{"unprotected":"x"}', 'malformed-jwe'],
    ['an object where a string belongs', '{"ciphertext":{}}', 'malformed-jwe'],
    ['a number as a member', '{"iv":12}', 'malformed-jwe'],
    ['non-base64url ciphertext', '{"ciphertext":"a+b"}', 'malformed-jwe'],
    ['non-base64url aad', '{"aad":"a b"}', 'malformed-jwe'],
    ['too many header parameters', `{"header":{${Array.from({ length: 65 }, (_, i) => `"p${i}":1`).join(',')}}}`, 'header-too-large'],
    ['a huge header value', `{"header":{"x5c":["${'A'.repeat(20_000)}"]}}`, 'header-too-large'],
    ['data after the object', '{"ciphertext":"AAAA"} {}', 'malformed-jwe'],
  ])('refuses %s as it streams by', async (_name, text, rule) => {
    expect((await inspect(Buffer.from(text))).outcome).toBe(rule);
    expect((await inspect(Buffer.from(text), 3)).outcome).toBe(rule);
  });

  it('refuses a header parameter repeated across the protected, shared and recipient headers (RFC 7516 §7.2.1)', async () => {
    const doc = {
      protected: header({ enc: 'A256GCM', alg: 'RSA-OAEP-256' }),
      header: { alg: 'RSA-OAEP-256' },
      encrypted_key: 'AAAA',
      iv: 'A'.repeat(16),
      ciphertext: 'AAAA',
      tag: 'A'.repeat(22),
    };
    await expect(inspectJwe(JSON.stringify(doc))).rejects.toMatchObject({ rule: 'malformed-jwe' });
  });
});

describe('memory stays flat whatever arrives', () => {
  const SIX_MB = 6 * 1000 * 1000;
  const bombs: Array<[string, () => Buffer, JweRule]> = [
    ['{"x":[[[[…]]]]}', () => Buffer.from(`{"x":${'['.repeat(SIX_MB / 2)}${']'.repeat(SIX_MB / 2)}}`), 'malformed-jwe'],
    ['{"recipients":[{},{},…]}', () => Buffer.from(`{"recipients":[${'{},'.repeat(SIX_MB / 3)}{}]}`), 'header-too-large'],
    ['{"x":[{},{},…]}', () => Buffer.from(`{"x":[${'{},'.repeat(SIX_MB / 3)}{}]}`), 'malformed-jwe'],
    [
      '{"unprotected":{"a":[[[[…]]]]}}',
      () => Buffer.from(`{"unprotected":{"a":${'['.repeat(SIX_MB / 2)}${']'.repeat(SIX_MB / 2)}}}`),
      'malformed-jwe',
    ],
    ['a 6 MB "aad"', () => Buffer.from(`{"aad":"${'A'.repeat(SIX_MB)}"}`), 'header-too-large'],
    ['a 6 MB protected header', () => Buffer.from(`{"protected":"${'A'.repeat(SIX_MB)}"}`), 'header-too-large'],
    ['6 MB of whitespace', () => Buffer.from(`{${' '.repeat(SIX_MB)}}`), 'header-too-large'],
    ['a 6 MB member name', () => Buffer.from(`{"${'k'.repeat(SIX_MB)}":1}`), 'malformed-jwe'],
    ['a 6 MB number', () => Buffer.from(`{"header":{"p2c":${'9'.repeat(SIX_MB)}}}`), 'malformed-jwe'],
  ];

  it.each(bombs)('refuses %s (whole or in 64 KiB chunks) holding less than 16 MiB', async (_name, make, rule) => {
    const bomb = make();
    for (const chunk of [bomb.length, 64 * 1024]) {
      const inspector = new JweInspector();
      const peak = new HeapPeak();
      let refused: unknown;
      try {
        for (let i = 0; i < bomb.length; i += chunk) {
          inspector.push(bomb.subarray(i, i + chunk));
          peak.sample();
        }
        await inspector.finish();
      } catch (err) {
        refused = err;
      }
      peak.sample();
      expect(peak.stop()).toBeLessThan(16 * MiB);
      expect(refused).toBeInstanceOf(JweValidationError);
      expect((refused as JweValidationError).rule).toBe(rule);
      expect(inspector.bytes).toBeGreaterThan(0);
    }
  });

  it('fuzz: random and mutated containers of up to 6 MB are judged with flat memory', async () => {
    const filler = fc.constantFrom('[', '{}', '{},', '"a":', ' ', 'A', '{"header":{', '"recipients":[');
    await fc.assert(
      fc.asyncProperty(validContainer, filler, fc.nat(), async (c, fill, at) => {
        const text = c.text;
        const pos = at % text.length;
        const big = Buffer.from(`${text.slice(0, pos)}${fill.repeat(Math.floor(SIX_MB / fill.length))}${text.slice(pos)}`);
        const peak = new HeapPeak();
        const { outcome } = await inspect(big, 64 * 1024);
        expect(peak.stop()).toBeLessThan(16 * MiB);
        expect(typeof outcome).toBe('string');
      }),
      { numRuns: 12 },
    );
  }, 120_000);

  it('streams a 6 MB ciphertext without holding it', async () => {
    const doc = {
      protected: header({ alg: 'ECDH-ES', enc: 'A256GCM', kid: 'k' }),
      iv: 'A'.repeat(16),
      ciphertext: 'A'.repeat(SIX_MB),
      tag: 'A'.repeat(22),
    };
    const bytes = Buffer.from(JSON.stringify(doc));
    const peak = new HeapPeak();
    const { outcome, summary } = await inspect(bytes, 64 * 1024);
    expect(peak.stop()).toBeLessThan(16 * MiB);
    expect(outcome).toBe('ok');
    expect(summary).toEqual({ format: 'json', kids: ['k'], algs: ['ECDH-ES'] });
  });
});
