import { safeFileName, sniffFileKind } from './files';

const bytes = (...b: number[]) => new Uint8Array(b);

describe('sniffFileKind', () => {
  it('knows common document formats by their first bytes', () => {
    expect(sniffFileKind(new TextEncoder().encode('%PDF-1.7\n…')).ext).toBe('pdf');
    expect(sniffFileKind(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0)).type).toBe('image/png');
    expect(sniffFileKind(bytes(0xff, 0xd8, 0xff, 0xe0)).ext).toBe('jpg');
    expect(sniffFileKind(bytes(0x50, 0x4b, 0x03, 0x04, 1, 2)).ext).toBe('zip');
  });

  it('calls UTF-8 without control characters text, anything else binary', () => {
    expect(sniffFileKind(new TextEncoder().encode('Sehr geehrte Damen und Herren,\nanbei …')).ext).toBe('txt');
    expect(sniffFileKind(bytes(0x00, 0x01, 0x02)).ext).toBe('bin');
    expect(sniffFileKind(bytes(0xc3)).ext).toBe('bin');
    expect(sniffFileKind(new Uint8Array()).ext).toBe('bin');
  });

  it('keeps a long text whose sample ends inside a multi-byte character', () => {
    const text = new TextEncoder().encode('ä'.repeat(3000));
    expect(sniffFileKind(text).ext).toBe('txt');
  });
});

describe('safeFileName', () => {
  it('keeps letters, digits, dot, dash and underscore only', () => {
    expect(safeFileName('BAU-2026/0815 Müller', 'pdf')).toBe('BAU-2026_0815_Muller.pdf');
    expect(safeFileName('../../etc/passwd', 'txt')).toBe('etc_passwd.txt');
    expect(safeFileName('///', 'bin')).toBe('dokument.bin');
  });
});
