import { DvdCryptoError } from './errors';
import { MESSAGE_CTY, decryptMessage, decryptWith, encryptFor, encryptForBytes, encryptMessage } from './jwe';
import { generateAuthorityKeyPair, generateReplyKeyPair, type KeyPair } from './keys';
import {
  base64url,
  byteDifference,
  concatKdf,
  fromBase64url,
  protectedHeader,
  randomBytes,
  webCryptoDecrypt,
  webCryptoEncrypt,
} from './testing/webcrypto-jwe';

/**
 * The SDK's containers (made with `jose`) are opened by an independent implementation on
 * Web Crypto alone, and the SDK opens containers made that way — for both key types.
 */

const MIB = 1024 * 1024;
const PAYLOADS: Array<[string, number]> = [
  ['an empty payload', 0],
  ['one byte', 1],
  ['a small payload', 1000],
  ['about 1 MiB', MIB + 17],
];

/** The JWE with one byte of segment `index` (0 header … 4 tag) flipped. */
function flip(jwe: string, index: number, at = 0): string {
  const parts = jwe.split('.');
  const bytes = fromBase64url(parts[index]);
  bytes[at] ^= 0x01;
  parts[index] = base64url(bytes);
  return parts.join('.');
}

async function cryptoFailure(p: Promise<unknown>): Promise<DvdCryptoError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DvdCryptoError);
  return err as DvdCryptoError;
}

const cases: Array<[string, string, () => Promise<KeyPair>]> = [
  ['RSA-3072 authority key', 'RSA-OAEP-256', () => generateAuthorityKeyPair({ alg: 'RSA-OAEP-256' })],
  ['EC P-256 authority key', 'ECDH-ES+A256KW', () => generateAuthorityKeyPair({ alg: 'ECDH-ES+A256KW' })],
  ['EC P-256 reply key', 'ECDH-ES+A256KW', () => generateReplyKeyPair()],
];

describe.each(cases)('JWE interop with Web Crypto: %s (%s + A256GCM)', (_name, alg, makePair) => {
  let pair: KeyPair;
  let other: KeyPair;

  beforeAll(async () => {
    [pair, other] = await Promise.all([makePair(), makePair()]);
  }, 60_000);

  it('makes keys of the expected type', () => {
    expect(pair.publicJwk).toMatchObject({ alg, use: 'enc', kid: pair.kid, kty: alg === 'RSA-OAEP-256' ? 'RSA' : 'EC' });
    if (alg === 'RSA-OAEP-256') expect(fromBase64url(pair.publicJwk.n!).length).toBe(384);
    else expect(pair.publicJwk.crv).toBe('P-256');
    expect(pair.publicJwk).not.toHaveProperty('d');
    expect(pair.privateJwk).toHaveProperty('d');
  });

  it.each(PAYLOADS)('SDK → Web Crypto: %s', async (_label, size) => {
    const plaintext = randomBytes(size);
    const jwe = await encryptFor(plaintext, pair.publicJwk);

    const header = protectedHeader(jwe);
    expect(header).toMatchObject({ alg, enc: 'A256GCM', kid: pair.kid });
    if (alg === 'ECDH-ES+A256KW') {
      expect(header.epk).toMatchObject({ kty: 'EC', crv: 'P-256' });
      expect(header.epk).not.toHaveProperty('d');
    }
    const opened = await webCryptoDecrypt(jwe, pair.privateJwk!);
    expect(byteDifference(opened.plaintext, plaintext)).toBeUndefined();
  });

  it.each(PAYLOADS)('SDK as bytes (encryptForBytes) → Web Crypto: %s', async (_label, size) => {
    const plaintext = randomBytes(size);
    const bytes = await encryptForBytes(plaintext, pair.publicJwk);
    // the compact serialization, one ASCII byte per character: nothing else in the buffer
    const jwe = new TextDecoder('ascii', { fatal: true }).decode(bytes);
    expect(jwe).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/);
    expect(protectedHeader(jwe)).toMatchObject({ alg, enc: 'A256GCM', kid: pair.kid });
    const opened = await webCryptoDecrypt(jwe, pair.privateJwk!);
    expect(byteDifference(opened.plaintext, plaintext)).toBeUndefined();
  });

  it.each(PAYLOADS)('Web Crypto → SDK: %s', async (_label, size) => {
    const plaintext = randomBytes(size);
    const jwe = await webCryptoEncrypt(plaintext, pair.publicJwk);
    expect(protectedHeader(jwe)).toMatchObject({ alg, enc: 'A256GCM', kid: pair.kid });

    // by private JWK (chosen by kid among several), and by the imported key
    expect(byteDifference(await decryptWith(jwe, [other.privateJwk!, pair.privateJwk!]), plaintext)).toBeUndefined();
    expect(byteDifference(await decryptWith(jwe, pair.privateKey), plaintext)).toBeUndefined();
  });

  it('messages: encryptMessage opens with Web Crypto, and decryptMessage opens a Web Crypto message', async () => {
    const text = 'Bitte rufen Sie mich zurück: Termin am Dienstag, 10 Uhr passt. ✓';
    const blob = await encryptMessage({ text }, pair.publicJwk);
    const opened = await webCryptoDecrypt(blob, pair.privateJwk!);
    expect(opened.header).toMatchObject({ alg, enc: 'A256GCM', kid: pair.kid, cty: MESSAGE_CTY });
    expect(JSON.parse(new TextDecoder().decode(opened.plaintext))).toEqual({ text });

    const foreign = await webCryptoEncrypt(new TextEncoder().encode(JSON.stringify({ text })), pair.publicJwk, {
      header: { cty: MESSAGE_CTY },
    });
    expect(await decryptMessage(foreign, pair.privateJwk!)).toEqual({ text });
    expect(await decryptMessage(foreign, pair.privateKey)).toEqual({ text });
  });

  if (alg === 'ECDH-ES+A256KW') {
    it('Web Crypto → SDK with PartyUInfo and PartyVInfo (apu/apv) in the Concat KDF', async () => {
      const plaintext = randomBytes(4096);
      const jwe = await webCryptoEncrypt(plaintext, pair.publicJwk, {
        header: { apu: base64url(new TextEncoder().encode('Alice')), apv: base64url(new TextEncoder().encode('Bob')) },
      });
      expect(byteDifference(await decryptWith(jwe, pair.privateJwk!), plaintext)).toBeUndefined();
      // the KDF inputs are bound: other apv, other KEK, the CEK does not unwrap
      const header = protectedHeader(jwe);
      const rewritten = [
        base64url(new TextEncoder().encode(JSON.stringify({ ...header, apv: base64url(new TextEncoder().encode('Eve')) }))),
        ...jwe.split('.').slice(1),
      ].join('.');
      await cryptoFailure(decryptWith(rewritten, pair.privateJwk!));
    });
  }

  it('a wrong key fails with DvdCryptoError, on both sides', async () => {
    const plaintext = randomBytes(256);
    const sdkJwe = await encryptFor(plaintext, pair.publicJwk);
    const webJwe = await webCryptoEncrypt(plaintext, pair.publicJwk);
    for (const jwe of [sdkJwe, webJwe]) {
      // another key under the container's kid: decryption itself fails
      await cryptoFailure(decryptWith(jwe, { ...other.privateJwk!, kid: pair.kid }));
      await cryptoFailure(decryptWith(jwe, other.privateKey));
      // no key for the container's kid at all
      const noKey = await cryptoFailure(decryptWith(jwe, [other.privateJwk!]));
      expect(noKey.message).toMatch(/no private key for kid/);
      await cryptoFailure(decryptMessage(jwe, other.privateKey));
    }
    await expect(webCryptoDecrypt(sdkJwe, other.privateJwk!)).rejects.toThrow();
  });

  it('a flipped byte fails (ciphertext, tag, IV, wrapped key, header), on both sides', async () => {
    const plaintext = randomBytes(1024);
    const sdkJwe = await encryptFor(plaintext, pair.publicJwk);
    const webJwe = await webCryptoEncrypt(plaintext, pair.publicJwk);
    for (const jwe of [sdkJwe, webJwe]) {
      await cryptoFailure(decryptWith(flip(jwe, 3), pair.privateJwk!));
      await cryptoFailure(decryptWith(flip(jwe, 3, 1023), pair.privateJwk!));
      await cryptoFailure(decryptWith(flip(jwe, 4), pair.privateJwk!));
      await cryptoFailure(decryptWith(flip(jwe, 2), pair.privateJwk!));
      await cryptoFailure(decryptWith(flip(jwe, 1), pair.privateJwk!));
      // the protected header is the AAD: a changed member (here cty) breaks the tag
      const header = protectedHeader(jwe);
      const rewritten = [base64url(new TextEncoder().encode(JSON.stringify({ ...header, cty: 'x' }))), ...jwe.split('.').slice(1)].join(
        '.',
      );
      await cryptoFailure(decryptWith(rewritten, pair.privateJwk!));
    }
    await expect(webCryptoDecrypt(flip(sdkJwe, 3), pair.privateJwk!)).rejects.toThrow();
    await expect(webCryptoDecrypt(flip(sdkJwe, 4), pair.privateJwk!)).rejects.toThrow();
  });

  it('refuses a JWE with enc A128GCM, though it is well made', async () => {
    const plaintext = randomBytes(64);
    const jwe = await webCryptoEncrypt(plaintext, pair.publicJwk, { enc: 'A128GCM' });
    // it is a valid container: the independent side opens it
    expect(byteDifference((await webCryptoDecrypt(jwe, pair.privateJwk!)).plaintext, plaintext)).toBeUndefined();
    const err = await cryptoFailure(decryptWith(jwe, pair.privateJwk!));
    expect(err.cause).toMatchObject({ code: 'ERR_JOSE_ALG_NOT_ALLOWED' });
    await cryptoFailure(decryptWith(jwe, pair.privateKey));
  });

  it('refuses a JWE with alg dir', async () => {
    const cek = randomBytes(32);
    const jwe = await webCryptoEncrypt(randomBytes(64), pair.publicJwk, { alg: 'dir', directKey: cek });
    expect(protectedHeader(jwe)).toMatchObject({ alg: 'dir', enc: 'A256GCM', kid: pair.kid });
    expect(jwe.split('.')[1]).toBe('');
    const err = await cryptoFailure(decryptWith(jwe, pair.privateJwk!));
    expect(err.cause).toMatchObject({ code: 'ERR_JOSE_ALG_NOT_ALLOWED' });
    await cryptoFailure(decryptWith(jwe, pair.privateKey));
  });
});

describe('JWE interop with Web Crypto: a non-extractable reply key', () => {
  it('has no private JWK and still opens what the independent implementation made', async () => {
    const pair = await generateReplyKeyPair({ extractable: false });
    expect(pair.privateJwk).toBeUndefined();
    const plaintext = randomBytes(2048);
    const jwe = await webCryptoEncrypt(plaintext, pair.publicJwk);
    expect(byteDifference(await decryptWith(jwe, pair.privateKey), plaintext)).toBeUndefined();
    expect(await decryptMessage(await encryptMessage({ text: 'hallo' }, pair.publicJwk), pair.privateKey)).toEqual({ text: 'hallo' });
  });
});

describe('the test helper itself', () => {
  it('derives the Concat KDF example of RFC 7518 Appendix C', async () => {
    const z = new Uint8Array([
      158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110, 163, 218, 128, 106, 72, 246, 218, 167, 121,
      140, 254, 144, 196,
    ]);
    const ascii = (t: string) => new TextEncoder().encode(t);
    expect(base64url(await concatKdf(z, 'A128GCM', ascii('Alice'), ascii('Bob'), 128))).toBe('VqqN6vgjbSBcIijNcacQGg');
  });

  it('base64url round-trips every length and matches the platform encoder', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = randomBytes(n);
      const text = base64url(bytes);
      expect(text).toBe(
        btoa(String.fromCharCode(...bytes))
          .replace(/\+/g, '-')
          .replace(/\//g, '_')
          .replace(/=+$/, ''),
      );
      expect(fromBase64url(text)).toEqual(bytes);
    }
  });
});
