import { Writable } from 'node:stream';
import pino from 'pino';
import { baseLoggerOptions, requestIdFrom } from './logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, stream };
}

describe('logger', () => {
  it('redacts personal and secret fields at any depth of one level', () => {
    const { lines, stream } = capture();
    const log = pino(baseLoggerOptions('test', 'info'), stream);
    log.info(
      {
        documentId: 'd-1',
        referenceNumber: 'AZ-4711/26',
        data: { referenceNumber: 'AZ-1', contentBlob: 'eyJ' },
        authorization: 'Bearer abc',
      },
      'stored',
    );
    const out = lines.join('');
    expect(out).toContain('d-1');
    expect(out).not.toContain('AZ-4711');
    expect(out).not.toContain('AZ-1');
    expect(out).not.toContain('eyJ');
    expect(out).not.toContain('Bearer abc');
    expect(JSON.parse(out).service).toBe('test');
  });

  it('keeps a sane client request id and replaces an insane one', () => {
    expect(requestIdFrom('abc-123')).toBe('abc-123');
    const replaced = requestIdFrom('bad id\nwith newline');
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});
