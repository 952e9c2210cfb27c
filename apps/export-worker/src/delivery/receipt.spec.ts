import { Readable } from 'node:stream';
import { RECEIPT_MAX_BYTES, parseReceipt, readCapped } from './receipt';

describe('receipts', () => {
  it.each([
    ['{"eAkteId":"EA-1"}', true],
    ['{"a":{"b":{"c":{"d":1}}}}', true],
    ['{"a":{"b":{"c":{"d":{"e":1}}}}}', false],
    ['{"a":[[[[1]]]]}', false],
    ['[]', false],
    ['"ok"', false],
    ['42', false],
    ['null', false],
    ['{"eAkteId":', false],
    ['<html>', false],
  ])('%s → kept: %s', (text, kept) => {
    const result = parseReceipt(Buffer.from(text));
    expect(result.ok).toBe(kept);
    if (!result.ok) expect(result.reason).toBe('invalid-receipt');
  });

  it('refuses invalid UTF-8 and anything over the cap', () => {
    expect(parseReceipt(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))).toEqual({ ok: false, reason: 'invalid-receipt' });
    const big = Buffer.from(JSON.stringify({ x: 'y'.repeat(RECEIPT_MAX_BYTES) }));
    expect(parseReceipt(big)).toEqual({ ok: false, reason: 'receipt-too-large' });
  });

  it('stops reading and aborts once the cap is exceeded, without consuming the rest', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 1024;
        this.push(Buffer.alloc(1024, 0x20));
      },
    });
    let aborted = 0;
    expect(await readCapped(endless, undefined, () => aborted++)).toBe('too-large');
    expect(aborted).toBe(1);
    expect(endless.destroyed).toBe(true);
    expect(produced).toBeLessThan(64 * 1024);
  });

  it('aborts at once when Content-Length announces more than the cap', async () => {
    let aborted = 0;
    const body = Readable.from([Buffer.from('{}')]);
    expect(await readCapped(body, String(RECEIPT_MAX_BYTES + 1), () => aborted++)).toBe('too-large');
    expect(aborted).toBe(1);
    expect((await readCapped(Readable.from([Buffer.from('{"a":1}')]), '7', () => aborted++)).toString()).toBe('{"a":1}');
  });
});
