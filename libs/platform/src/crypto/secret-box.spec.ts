import { randomBytes } from 'node:crypto';
import { SecretBox, SecretBoxError, parseSecretKeyring } from './secret-box';

const key = () => randomBytes(32).toString('base64');

describe('SecretBox (AES-256-GCM envelopes)', () => {
  const k1 = key();
  const k2 = key();
  const secret = `whsec_${randomBytes(32).toString('base64')}`;

  it('seals to v1.<kid>.<iv>.<ct>.<tag> without the plaintext, and opens again', () => {
    const box = new SecretBox(`k1:${k1}`);
    const sealed = box.seal(secret, 'authority-a');
    expect(sealed).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(sealed).not.toContain(secret.slice(6, 20));
    expect(box.open(sealed, 'authority-a')).toBe(secret);
    expect(box.seal(secret, 'authority-a')).not.toBe(sealed); // fresh IV every time
  });

  it('refuses another context (a value copied to another authority), another key and tampering', () => {
    const box = new SecretBox(`k1:${k1}`);
    const sealed = box.seal(secret, 'authority-a');
    expect(() => box.open(sealed, 'authority-b')).toThrow(SecretBoxError);
    expect(() => new SecretBox(`k1:${k2}`).open(sealed, 'authority-a')).toThrow(SecretBoxError);
    expect(() => new SecretBox(`k2:${k2}`).open(sealed, 'authority-a')).toThrow(/no key "k1"/);
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3], 'base64url');
    ct[0] ^= 1;
    parts[3] = ct.toString('base64url');
    expect(() => box.open(parts.join('.'), 'authority-a')).toThrow(SecretBoxError);
    expect(() => box.open(secret, 'authority-a')).toThrow(/not a sealed secret/);
    expect(SecretBox.isSealed(secret)).toBe(false);
    expect(SecretBox.isSealed(sealed)).toBe(true);
  });

  it('rotates: the first key seals, all keys open, isCurrent tells what to re-seal', () => {
    const old = new SecretBox(`k1:${k1}`);
    const sealedOld = old.seal(secret, 'a');
    const rotated = new SecretBox(`k2:${k2},k1:${k1}`);
    expect(rotated.open(sealedOld, 'a')).toBe(secret);
    expect(rotated.isCurrent(sealedOld)).toBe(false);
    const resealed = rotated.seal(secret, 'a');
    expect(resealed.startsWith('v1.k2.')).toBe(true);
    expect(rotated.isCurrent(resealed)).toBe(true);
    expect(new SecretBox(`k2:${k2}`).open(resealed, 'a')).toBe(secret);
  });

  it.each([
    ['', /empty/],
    [`:${key()}`, /kid/],
    [`k1:${randomBytes(16).toString('base64')}`, /32 bytes/],
    [`k1:not base64!`, /not base64/],
    [`k1:${key()},k1:${key()}`, /twice/],
  ])('refuses the keyring %#, naming no key material', (spec, message) => {
    expect(() => parseSecretKeyring(spec)).toThrow(message);
    try {
      parseSecretKeyring(spec);
    } catch (err) {
      for (const part of spec.split(/[,:]/).filter((p) => p.length > 8)) expect((err as Error).message).not.toContain(part);
    }
  });

  it('accepts base64url keys too', () => {
    expect(parseSecretKeyring(`a:${randomBytes(32).toString('base64url')}`)[0].key).toHaveLength(32);
  });
});
