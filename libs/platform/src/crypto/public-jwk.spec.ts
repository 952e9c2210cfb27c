import { exportJWK, generateKeyPair } from 'jose';
import { KeyRule, KeyValidationError, validatePublicEncryptionJwk } from './public-jwk';

async function rsa(bits: number) {
  const { publicKey, privateKey } = await generateKeyPair('RSA-OAEP-256', { modulusLength: bits, extractable: true });
  return { pub: await exportJWK(publicKey), priv: await exportJWK(privateKey) };
}
async function ec(crv: 'P-256' | 'P-384' | 'P-521') {
  const alg = 'ECDH-ES+A256KW';
  const { publicKey, privateKey } = await generateKeyPair(alg, { crv, extractable: true });
  return { pub: await exportJWK(publicKey), priv: await exportJWK(privateKey) };
}

async function ruleOf(jwk: unknown): Promise<KeyRule | 'accepted'> {
  try {
    await validatePublicEncryptionJwk(jwk);
    return 'accepted';
  } catch (e) {
    if (e instanceof KeyValidationError) return e.rule;
    throw e;
  }
}

describe('validatePublicEncryptionJwk: the key table', () => {
  let rsa3072: Awaited<ReturnType<typeof rsa>>;
  let rsa4096: Awaited<ReturnType<typeof rsa>>;
  let rsa2048: Awaited<ReturnType<typeof rsa>>;
  let p256: Awaited<ReturnType<typeof ec>>;
  let p384: Awaited<ReturnType<typeof ec>>;
  let p521: Awaited<ReturnType<typeof ec>>;

  beforeAll(async () => {
    [rsa3072, rsa4096, rsa2048, p256, p384, p521] = await Promise.all([
      rsa(3072),
      rsa(4096),
      rsa(2048),
      ec('P-256'),
      ec('P-384'),
      ec('P-521'),
    ]);
  }, 60_000);

  it('accepts RSA 3072/4096 with RSA-OAEP-256 and EC P-256/P-384 with ECDH-ES+A256KW', async () => {
    expect(await ruleOf({ ...rsa3072.pub, alg: 'RSA-OAEP-256', kid: 'r1' })).toBe('accepted');
    expect(await ruleOf({ ...rsa4096.pub, alg: 'RSA-OAEP-256', kid: 'r2', use: 'enc' })).toBe('accepted');
    expect(await ruleOf({ ...p256.pub, alg: 'ECDH-ES+A256KW', kid: 'e1' })).toBe('accepted');
    expect(await ruleOf({ ...p384.pub, alg: 'ECDH-ES+A256KW', kid: 'e2' })).toBe('accepted');
  });

  it('normalises to public members with use "enc", and derives a missing kid from the thumbprint', async () => {
    const key = await validatePublicEncryptionJwk({ ...p256.pub, alg: 'ECDH-ES+A256KW', ext: true, key_ops: ['deriveKey'] });
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Object.keys(key.jwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(key.jwk.use).toBe('enc');
  });

  it.each<[string, () => unknown, KeyRule]>([
    ['an RSA private key', () => ({ ...rsa3072.priv, alg: 'RSA-OAEP-256', kid: 'x' }), 'private-key'],
    ['an EC private key', () => ({ ...p256.priv, alg: 'ECDH-ES+A256KW', kid: 'x' }), 'private-key'],
    ['a public key with only "dp" added', () => ({ ...rsa3072.pub, alg: 'RSA-OAEP-256', dp: 'AQAB' }), 'private-key'],
    ['a public key with only "qi" added', () => ({ ...rsa3072.pub, alg: 'RSA-OAEP-256', qi: 'AQAB' }), 'private-key'],
    ['a symmetric key', () => ({ kty: 'oct', k: 'c2VjcmV0', alg: 'A256KW', kid: 'x' }), 'symmetric-key'],
    ['RSA 2048', () => ({ ...rsa2048.pub, alg: 'RSA-OAEP-256', kid: 'x' }), 'rsa-key-too-small'],
    ['RSA with RSA1_5', () => ({ ...rsa3072.pub, alg: 'RSA1_5', kid: 'x' }), 'algorithm-not-allowed'],
    ['RSA with RSA-OAEP (SHA-1)', () => ({ ...rsa3072.pub, alg: 'RSA-OAEP', kid: 'x' }), 'algorithm-not-allowed'],
    ['RSA without alg', () => ({ ...rsa3072.pub, kid: 'x' }), 'algorithm-not-allowed'],
    ['EC with ECDH-ES (direct)', () => ({ ...p256.pub, alg: 'ECDH-ES', kid: 'x' }), 'algorithm-not-allowed'],
    ['EC P-521', () => ({ ...p521.pub, alg: 'ECDH-ES+A256KW', kid: 'x' }), 'unsupported-curve'],
    ['a signing key', () => ({ ...p256.pub, alg: 'ECDH-ES+A256KW', use: 'sig' }), 'wrong-key-use'],
    ['OKP X25519', () => ({ kty: 'OKP', crv: 'X25519', x: 'x'.repeat(43), alg: 'ECDH-ES+A256KW' }), 'unsupported-key-type'],
    ['a string', () => 'not a key', 'not-a-jwk'],
    ['an EC point off the curve', () => ({ ...p256.pub, y: p256.pub.x, alg: 'ECDH-ES+A256KW' }), 'invalid-key'],
    ['truncated EC coordinates', () => ({ ...p256.pub, x: 'AAAA', alg: 'ECDH-ES+A256KW' }), 'invalid-key'],
  ])('refuses %s', async (_name, make, rule) => {
    expect(await ruleOf(make())).toBe(rule);
  });
});
