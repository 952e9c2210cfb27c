import fc from 'fast-check';
import { CompactEncrypt, FlattenedEncrypt, GeneralEncrypt, KeyLike, generateKeyPair } from 'jose';
import { JweInspector, JweRule, JweValidationError, inspectJwe } from './jwe-inspector';

const plaintext = new TextEncoder().encode('Sehr geehrte Damen und Herren, ... Widerspruch ...');

async function outcome(data: Buffer | string, acceptKids?: (kids: string[]) => boolean, chunkSize?: number): Promise<JweRule | 'ok'> {
  try {
    if (chunkSize) {
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
      const inspector = new JweInspector({ acceptKids });
      for (let i = 0; i < buf.length; i += chunkSize) inspector.push(buf.subarray(i, i + chunkSize));
      await inspector.finish();
    } else {
      await inspectJwe(data, { acceptKids });
    }
    return 'ok';
  } catch (e) {
    if (e instanceof JweValidationError) return e.rule;
    throw e;
  }
}

describe('JweInspector', () => {
  let rsa: KeyLike;
  let ec: KeyLike;
  let compactRsa: string;
  let compactEcdhEs: string;
  let compactKw: string;
  let general: string;
  let flattened: string;

  beforeAll(async () => {
    rsa = (await generateKeyPair('RSA-OAEP-256', { modulusLength: 3072 })).publicKey;
    ec = (await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256' })).publicKey;
    compactRsa = await new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'k-rsa' }).encrypt(rsa);
    compactEcdhEs = await new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', kid: 'k-ec' }).encrypt(ec);
    compactKw = await new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'k-ec' }).encrypt(ec);
    const g = new GeneralEncrypt(plaintext).setProtectedHeader({ enc: 'A256GCM' });
    g.addRecipient(rsa).setUnprotectedHeader({ alg: 'RSA-OAEP-256', kid: 'k-rsa' });
    g.addRecipient(ec).setUnprotectedHeader({ alg: 'ECDH-ES+A256KW', kid: 'citizen-own' });
    general = JSON.stringify(await g.encrypt());
    flattened = JSON.stringify(
      await new FlattenedEncrypt(plaintext).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'k-rsa' }).encrypt(rsa),
    );
  }, 30_000);

  it('accepts compact containers for every allowed algorithm, whole or byte by byte', async () => {
    for (const jwe of [compactRsa, compactEcdhEs, compactKw]) {
      expect(await outcome(jwe)).toBe('ok');
      expect(await outcome(jwe, undefined, 1)).toBe('ok');
      expect(await outcome(`${jwe}\n`)).toBe('ok');
    }
    expect(await inspectJwe(compactRsa)).toEqual({ format: 'compact', kids: ['k-rsa'], algs: ['RSA-OAEP-256'] });
  });

  it('accepts general and flattened JSON serialization, also in small chunks', async () => {
    expect(await inspectJwe(general)).toEqual({ format: 'json', kids: ['k-rsa', 'citizen-own'], algs: ['RSA-OAEP-256', 'ECDH-ES+A256KW'] });
    expect(await outcome(general, undefined, 7)).toBe('ok');
    expect(await outcome(flattened)).toBe('ok');
    expect(await outcome(JSON.stringify(JSON.parse(flattened), null, 2))).toBe('ok');
  });

  it('checks the recipients against the key directory', async () => {
    const onlyRsa = (kids: string[]) => kids.includes('k-rsa');
    expect(await outcome(compactRsa, onlyRsa)).toBe('ok');
    expect(await outcome(compactKw, onlyRsa)).toBe('unknown-kid');
    expect(await outcome(general, onlyRsa)).toBe('ok'); // one recipient is the authority
    expect(await outcome(general, (k) => k.includes('nope'))).toBe('unknown-kid');
  });

  it('refuses plaintext files at once', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj'), Buffer.alloc(1000)]);
    const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00]);
    expect(await outcome(pdf)).toBe('not-a-jwe');
    expect(await outcome(zip)).toBe('not-a-jwe');
    expect(await outcome('Sehr geehrte Damen und Herren')).toBe('not-a-jwe');
    expect(await outcome('')).toBe('not-a-jwe');
    expect(await outcome('{"hello": "world"}')).toBe('malformed-jwe');
    expect(await outcome('[1,2,3]')).toBe('not-a-jwe');
  });

  it.each([10, 100, 200, -30, -5, -1])('refuses a compact container truncated at %i', async (cut) => {
    const rule = await outcome(compactRsa.slice(0, cut < 0 ? compactRsa.length + cut : cut));
    expect(['truncated-jwe', 'malformed-jwe']).toContain(rule);
  });

  it('refuses truncated JSON serialization', async () => {
    expect(await outcome(general.slice(0, general.length - 20))).toBe('malformed-jwe');
    const noTag = JSON.parse(flattened);
    delete noTag.tag;
    expect(await outcome(JSON.stringify(noTag))).toBe('truncated-jwe');
  });

  it('refuses disallowed algorithms and encodings, crit headers, extra segments and members', async () => {
    const header = (h: object) => Buffer.from(JSON.stringify(h)).toString('base64url');
    const [, ek, iv, ct, tag] = compactRsa.split('.');
    const forge = (h: object) => [header(h), ek, iv, ct, tag].join('.');
    expect(await outcome(forge({ alg: 'RSA-OAEP', enc: 'A256GCM', kid: 'k' }))).toBe('algorithm-not-allowed');
    expect(await outcome(forge({ alg: 'dir', enc: 'A256GCM' }))).toBe('algorithm-not-allowed');
    expect(await outcome(forge({ alg: 'RSA-OAEP-256', enc: 'A128CBC-HS256' }))).toBe('encryption-not-allowed');
    expect(await outcome(forge({ alg: 'RSA-OAEP-256', enc: 'A256GCM', crit: ['exp'], exp: 1 }))).toBe('critical-header');
    expect(await outcome(`${compactRsa}.AAAA`)).toBe('malformed-jwe');
    expect(await outcome(compactRsa.replace('.', '.%'))).toBe('malformed-jwe');
    expect(await outcome(JSON.stringify({ ...JSON.parse(flattened), comment: 'hi' }))).toBe('malformed-jwe');
    // a JWS (three segments) is not a JWE
    expect(await outcome(`${header({ alg: 'RS256' })}.${header({ sub: 'x' })}.c2ln`)).toBe('algorithm-not-allowed');
  });

  it('judges a compact container the same however it is cut into chunks, and wherever a foreign byte sits', async () => {
    const chunked = (data: Buffer, cuts: number[]) => {
      const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
      const inspector = new JweInspector({ acceptKids: (k) => k.includes('k-rsa') });
      let from = 0;
      return (async () => {
        try {
          for (const p of [...points, data.length]) {
            inspector.push(data.subarray(from, p));
            from = p;
          }
          await inspector.finish();
          return 'ok';
        } catch (e) {
          if (e instanceof JweValidationError) return e.rule;
          throw e;
        }
      })();
    };
    const whole = Buffer.from(`${compactRsa}\n`);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.option(fc.record({ at: fc.nat(), byte: fc.constantFrom(0x25, 0x2e, 0x0a, 0x20, 0x00, 0xff, 0x2b) })),
        async (cuts, foreign) => {
          const data = Buffer.from(whole);
          if (foreign) data[foreign.at % data.length] = foreign.byte;
          expect(await chunked(data, cuts)).toBe(await outcome(data));
        },
      ),
      { numRuns: 300 },
    );
    expect(await chunked(whole, [1, 2, 3, 70, 500])).toBe('ok');
  });

  it('finds a foreign byte anywhere in the ciphertext, at any alignment of the bytes in memory and any cut', async () => {
    const segments = compactRsa.split('.');
    const ctStart = segments.slice(0, 3).join('.').length + 1;
    const ctLength = segments[3].length;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: ctLength - 1 }),
        fc.constantFrom(0x25, 0x2e, 0x0a, 0x20, 0x00, 0xff, 0x2b, 0x3d, 0x2f, 0x60, 0x7b),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 40 }),
        async (at, byte, shift, chunkSize) => {
          // the container at byte offset `shift` of its memory (the check reads two bytes at a time)
          const data = Buffer.alloc(compactRsa.length + shift).subarray(shift);
          data.write(compactRsa, 'latin1');
          data[ctStart + at] = byte;
          expect(await outcome(data)).toBe('malformed-jwe');
          expect(await outcome(data, undefined, chunkSize)).toBe('malformed-jwe');
        },
      ),
      { numRuns: 300 },
    );
    const aligned = Buffer.alloc(compactRsa.length + 1).subarray(1);
    aligned.write(compactRsa, 'latin1');
    expect(await outcome(aligned)).toBe('ok');
    expect(await outcome(aligned, undefined, 3)).toBe('ok');
  });
});
