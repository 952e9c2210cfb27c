import { createHmac } from 'node:crypto';
import { Identity, IdentityHeader } from '@dvd/contracts';
import {
  IdentityKeyError,
  devIdentityEnv,
  generateDevIdentityKeys,
  generateHmacKey,
  generateIdentityKeyPair,
  parseHmacKeys,
  parseSigningKey,
  parseVerifyKeys,
} from './identity-keys';
import {
  EMPTY_BODY_DIGEST,
  IDENTITY_SIGNATURE_VERSION,
  IDENTITY_SIGNATURE_VERSION_WITH_EXPIRY,
  bodyDigest,
  canonicalIdentity,
  signIdentity,
  streamedBody,
  streamedBodyOf,
  verifyIdentity,
  newNonce,
} from './identity-signature';
import { IdentityVerifier } from './identity.guard';
import { ReplayGuard } from './replay-guard';

const keys = generateDevIdentityKeys('spec');
const gateway = parseSigningKey(keys.gateway);
const communication = parseSigningKey(keys.services.communication);
const verifyKeys = parseVerifyKeys(keys.verifyKeys);
const id: Identity = { userId: 'u1', role: 'official', authorityId: 'a1', requestId: 'r1' };

const verified = (h: Record<string, string>, method = 'GET', path = '/api/v1/documents', now = Date.now()) => {
  const v = verifyIdentity(verifyKeys, h, method, path, now);
  return typeof v === 'string' ? v : v.identity;
};

describe('canonical identity string', () => {
  const fields = { kid: 'k1', method: 'get', path: '/a?b=1', body: EMPTY_BODY_DIGEST, timestamp: '1700000000', nonce: 'n', identity: id };

  it('is a versioned JSON array in a fixed order, the method upper-cased', () => {
    expect(JSON.parse(canonicalIdentity(fields))).toEqual([
      IDENTITY_SIGNATURE_VERSION,
      'k1',
      'GET',
      '/a?b=1',
      EMPTY_BODY_DIGEST,
      '1700000000',
      'n',
      'u1',
      'official',
      'a1',
      'r1',
    ]);
  });

  it('cannot be made equal by moving text between fields', () => {
    const a = canonicalIdentity({ ...fields, identity: { ...id, userId: 'u1\nofficial', role: 'citizen' } });
    const b = canonicalIdentity({ ...fields, identity: { ...id, userId: 'u1', role: 'official' } });
    expect(a).not.toBe(b);
    const c = canonicalIdentity({ ...fields, path: '/a', body: `?b=1${EMPTY_BODY_DIGEST}` });
    expect(c).not.toBe(canonicalIdentity(fields));
  });

  it('writes a missing authority as the empty string', () => {
    expect(JSON.parse(canonicalIdentity({ ...fields, identity: { ...id, authorityId: null } }))[9]).toBe('');
  });
});

describe('identity signature (Ed25519)', () => {
  it('round-trips a signed identity and reports the signer', () => {
    const h = signIdentity(gateway, id, 'GET', '/api/v1/documents');
    const v = verifyIdentity(verifyKeys, h, 'GET', '/api/v1/documents');
    expect(v).toMatchObject({ identity: id, signer: 'gateway', kid: gateway.kid, body: EMPTY_BODY_DIGEST });
  });

  it.each([
    ['a forged role', { [IdentityHeader.role]: 'platform-admin' }],
    ['a forged authority', { [IdentityHeader.authorityId]: 'a2' }],
    ['a forged user', { [IdentityHeader.userId]: 'u2' }],
    ['another request id', { [IdentityHeader.requestId]: 'r2' }],
    ['another nonce', { [IdentityHeader.nonce]: 'A'.repeat(22) }],
    ['another body', { [IdentityHeader.body]: bodyDigest('{}') }],
    ['another time', { [IdentityHeader.timestamp]: String(Math.floor(Date.now() / 1000) - 1) }],
    ['a missing signature', { [IdentityHeader.signature]: '' }],
    ['a missing key id', { [IdentityHeader.keyId]: '' }],
    ['an unknown key id', { [IdentityHeader.keyId]: 'someone-else' }],
    ['an unknown role', { [IdentityHeader.role]: 'root' }],
  ])('rejects %s', (_name, change) => {
    const h = { ...signIdentity(gateway, id, 'GET', '/x'), ...change };
    expect(verified(h, 'GET', '/x')).not.toEqual(id);
  });

  it('names why it refuses', () => {
    const h = signIdentity(gateway, id, 'GET', '/x');
    expect(verified({ ...h, [IdentityHeader.keyId]: 'nope' }, 'GET', '/x')).toBe('unknown-key');
    expect(verified({ ...h, [IdentityHeader.userId]: 'u2' }, 'GET', '/x')).toBe('bad-signature');
    expect(verified({ ...h, [IdentityHeader.nonce]: 'short' }, 'GET', '/x')).toBe('malformed');
  });

  it('refuses a signature by a key of the same name that is not in the verify set', () => {
    const impostor = parseSigningKey(generateIdentityKeyPair(gateway.kid, 'gateway').privateJwk);
    expect(verified(signIdentity(impostor, id, 'GET', '/x'), 'GET', '/x')).toBe('bad-signature');
  });

  it('refuses identity headers of the old shared-secret HMAC scheme', () => {
    const secret = 's'.repeat(32);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const text = ['v1', id.userId, id.role, id.authorityId, id.requestId, 'GET', '/x', timestamp].join('\n');
    const old = {
      [IdentityHeader.userId]: id.userId,
      [IdentityHeader.role]: id.role,
      [IdentityHeader.authorityId]: id.authorityId!,
      [IdentityHeader.requestId]: id.requestId,
      [IdentityHeader.timestamp]: timestamp,
      [IdentityHeader.signature]: createHmac('sha256', secret).update(text).digest('base64url'),
    };
    expect(verified(old, 'GET', '/x')).toBe('missing');
    // even dressed up with the new headers and a known key id, an HMAC is no Ed25519 signature
    const dressed = {
      ...old,
      [IdentityHeader.keyId]: gateway.kid,
      [IdentityHeader.nonce]: 'A'.repeat(22),
      [IdentityHeader.body]: EMPTY_BODY_DIGEST,
    };
    expect(verified(dressed, 'GET', '/x')).toBe('malformed');
  });

  it('binds method, path with query, and time (60 s either way)', () => {
    const now = Date.now();
    const h = signIdentity(gateway, id, 'GET', '/a?limit=5', EMPTY_BODY_DIGEST, now);
    expect(verified(h, 'DELETE', '/a?limit=5', now)).toBe('bad-signature');
    expect(verified(h, 'GET', '/b?limit=5', now)).toBe('bad-signature');
    expect(verified(h, 'GET', '/a?limit=6', now)).toBe('bad-signature');
    expect(verified(h, 'GET', '/a?limit=5', now + 61_000)).toBe('expired');
    expect(verified(h, 'GET', '/a?limit=5', now - 61_000)).toBe('expired');
    expect(verified(h, 'GET', '/a?limit=5', now + 59_000)).toEqual(id);
  });

  it("binds the user's token expiry (version 3): it cannot be changed, added or removed", () => {
    const withExpiry: Identity = { ...id, expiresAt: 1_900_000_000 };
    const h = signIdentity(gateway, withExpiry, 'GET', '/api/v1/events');
    expect(h[IdentityHeader.expires]).toBe('1900000000');
    expect(verified(h, 'GET', '/api/v1/events')).toEqual(withExpiry);
    expect(verified({ ...h, [IdentityHeader.expires]: '1900000600' }, 'GET', '/api/v1/events')).toBe('bad-signature');
    const { [IdentityHeader.expires]: _removed, ...without } = h;
    expect(verified(without, 'GET', '/api/v1/events')).toBe('bad-signature');
    const v2 = signIdentity(gateway, id, 'GET', '/api/v1/events');
    expect(verified({ ...v2, [IdentityHeader.expires]: '1900000000' }, 'GET', '/api/v1/events')).toBe('bad-signature');
    expect(verified({ ...h, [IdentityHeader.expires]: 'soon' }, 'GET', '/api/v1/events')).toBe('malformed');
    expect(
      JSON.parse(canonicalIdentity({ kid: 'k', method: 'GET', path: '/', body: '', timestamp: '1', nonce: 'n', identity: withExpiry })),
    ).toEqual([IDENTITY_SIGNATURE_VERSION_WITH_EXPIRY, 'k', 'GET', '/', '', '1', 'n', 'u1', 'official', 'a1', 'r1', '1900000000']);
  });

  it('uses a fresh 128-bit nonce per signature', () => {
    const a = signIdentity(gateway, id, 'GET', '/x')[IdentityHeader.nonce];
    const b = signIdentity(gateway, id, 'GET', '/x')[IdentityHeader.nonce];
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a).not.toBe(b);
  });

  it('never repeats a nonce across refills of its random pool', () => {
    const seen = new Set(Array.from({ length: 2_000 }, () => newNonce()));
    expect(seen.size).toBe(2_000);
    for (const n of seen) expect(n).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('body binding', () => {
  it('digests a body as RFC 9530 sha-256', () => {
    expect(bodyDigest('')).toBe('sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:');
    expect(bodyDigest(Buffer.from('{"a":1}'))).toBe(bodyDigest('{"a":1}'));
  });

  it('binds a streamed multipart body to its declared length (or chunked) and exact content type', () => {
    const type = 'multipart/form-data; boundary=abc';
    expect(streamedBodyOf({ 'content-type': type, 'content-length': '123' })).toBe(streamedBody(type, 123));
    expect(streamedBodyOf({ 'content-type': type, 'transfer-encoding': 'chunked' })).toBe(streamedBody(type, 'chunked'));
    expect(streamedBodyOf({ 'content-type': 'application/json', 'content-length': '123' })).toBeNull();
    expect(streamedBodyOf({ 'content-type': type })).toBeNull();
    expect(streamedBodyOf({ 'content-type': type, 'content-length': '1', 'transfer-encoding': 'chunked' })).toBeNull();
  });
});

describe('who may sign what', () => {
  const verifier = new IdentityVerifier({ verifyKeys: keys.verifyKeys, callers: ['communication'] }, new ReplayGuard(null));
  const check = (h: Record<string, string>, path: string) => {
    const v = verifier.verify(h, 'GET', path);
    return typeof v === 'string' ? v : v.identity.role;
  };
  const svc: Identity = { userId: 'communication', role: 'service', authorityId: null, requestId: 'r' };

  it('accepts user roles from the gateway, never `service`', () => {
    expect(check(signIdentity(gateway, id, 'GET', '/api/v1/x'), '/api/v1/x')).toBe('official');
    expect(check(signIdentity(gateway, { ...svc, userId: 'gateway' }, 'GET', '/internal/x'), '/internal/x')).toBe('signer-not-allowed');
  });

  it('accepts a calling service only as itself, only on internal routes', () => {
    expect(check(signIdentity(communication, svc, 'GET', '/internal/x'), '/internal/x')).toBe('service');
    // a compromised service claiming a platform admin
    const admin: Identity = { userId: 'pa', role: 'platform-admin', authorityId: 'platform', requestId: 'r' };
    expect(check(signIdentity(communication, admin, 'GET', '/api/v1/authorities'), '/api/v1/authorities')).toBe('signer-not-allowed');
    expect(check(signIdentity(communication, admin, 'GET', '/internal/x'), '/internal/x')).toBe('signer-not-allowed');
    // itself, but on a public route
    expect(check(signIdentity(communication, svc, 'GET', '/api/v1/x'), '/api/v1/x')).toBe('signer-not-allowed');
    // posing as another service
    expect(check(signIdentity(communication, { ...svc, userId: 'export-worker' }, 'GET', '/internal/x'), '/internal/x')).toBe(
      'signer-not-allowed',
    );
  });

  it('refuses a service this one does not list as a caller', () => {
    const exportWorker = parseSigningKey(keys.services['export-worker']);
    const h = signIdentity(exportWorker, { ...svc, userId: 'export-worker' }, 'GET', '/internal/x');
    expect(check(h, '/internal/x')).toBe('signer-not-allowed');
  });
});

describe("identity signature (HMAC with the receiving service's own secret, ADR 0025)", () => {
  const shared = (service: string) => JSON.stringify({ keys: [keys.hmac![service]] });
  const verifierOf = (service: string) =>
    new IdentityVerifier({ verifyKeys: keys.verifyKeys, hmacKeys: shared(service), service, callers: [] }, new ReplayGuard(null));
  const [forIntake] = parseHmacKeys(shared('intake'));
  const check = (service: string, h: Record<string, string>, path = '/api/v1/x', method = 'GET') => {
    const v = verifierOf(service).verify(h, method, path);
    return typeof v === 'string' ? v : v.identity;
  };

  it('round-trips at the service the secret is for, and nowhere else', () => {
    const h = signIdentity(forIntake, id, 'GET', '/api/v1/x');
    expect(h[IdentityHeader.signature]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(check('intake', h)).toEqual(id);
    // another service holds another secret: a compromised intake cannot speak to communication
    expect(check('communication', signIdentity(forIntake, id, 'GET', '/api/v1/x'))).toBe('unknown-key');
    // the gateway's Ed25519 signature stays valid beside it (rolling out, rotating)
    expect(check('intake', signIdentity(gateway, id, 'GET', '/api/v1/x'))).toEqual(id);
  });

  it('binds what Ed25519 binds: method, path, body, identity', () => {
    expect(check('intake', signIdentity(forIntake, id, 'GET', '/api/v1/x'), '/api/v1/y')).toBe('bad-signature');
    expect(check('intake', signIdentity(forIntake, id, 'GET', '/api/v1/x'), '/api/v1/x', 'DELETE')).toBe('bad-signature');
    const h = signIdentity(forIntake, id, 'GET', '/api/v1/x');
    expect(check('intake', { ...h, [IdentityHeader.role]: 'platform-admin' })).toBe('bad-signature');
    expect(check('intake', { ...h, [IdentityHeader.body]: bodyDigest('{}') })).toBe('bad-signature');
    // an Ed25519-length signature under the secret's key id, and the other way round
    expect(check('intake', { ...h, [IdentityHeader.signature]: 'A'.repeat(86) })).toBe('malformed');
    const ed = signIdentity(gateway, id, 'GET', '/api/v1/x');
    expect(check('intake', { ...ed, [IdentityHeader.signature]: h[IdentityHeader.signature] })).toBe('malformed');
  });

  it('signs user roles only, never `service`', () => {
    const svc: Identity = { userId: 'communication', role: 'service', authorityId: null, requestId: 'r' };
    expect(check('intake', signIdentity(forIntake, svc, 'GET', '/internal/x'), '/internal/x')).toBe('signer-not-allowed');
  });

  it("refuses to start with another service's secret or a key id taken", () => {
    const opts = { verifyKeys: keys.verifyKeys, callers: [], service: 'communication' };
    expect(() => new IdentityVerifier({ ...opts, hmacKeys: shared('intake') }, new ReplayGuard(null))).toThrow(IdentityKeyError);
    const clash = JSON.stringify({ keys: [{ ...keys.hmac!.communication, kid: gateway.kid }] });
    expect(() => new IdentityVerifier({ ...opts, hmacKeys: clash }, new ReplayGuard(null))).toThrow(/kid of a verify key/);
  });

  it('accepts only 256 to 512 bit HS256 secrets with kid, signer "gateway" and aud', () => {
    const good = generateHmacKey('k1', 'intake');
    const set = (...k: object[]) => JSON.stringify({ keys: k });
    expect(parseHmacKeys(set(good))).toHaveLength(1);
    for (const bad of [
      { ...good, k: Buffer.alloc(31).toString('base64url') },
      { ...good, k: Buffer.alloc(65).toString('base64url') },
      { ...good, kty: 'OKP' },
      { ...good, alg: 'HS512' },
      { ...good, aud: undefined },
      { ...good, aud: 'Intake!' },
      { ...good, signer: 'service:intake' },
      { ...good, kid: undefined },
    ])
      expect(() => parseHmacKeys(set(bad))).toThrow(IdentityKeyError);
    expect(() => parseHmacKeys(set(good, good))).toThrow(/twice/);
    expect(() => parseHmacKeys(set())).toThrow(IdentityKeyError);
  });

  it('gives the gateway every secret and each service only its own', () => {
    const gatewayEnv = devIdentityEnv(keys, 'gateway');
    expect(
      parseHmacKeys(gatewayEnv.IDENTITY_HMAC_KEYS)
        .map((k) => k.audience)
        .sort(),
    ).toEqual(['communication', 'export-worker', 'intake', 'realtime', 'routing-engine']);
    for (const service of ['communication', 'export-worker', 'intake', 'realtime', 'routing-engine'])
      expect(parseHmacKeys(devIdentityEnv(keys, service).IDENTITY_HMAC_KEYS).map((k) => k.audience)).toEqual([service]);
  });
});

describe('replay guard (process memory)', () => {
  it('accepts an id once within its lifetime, and again after it expired', async () => {
    const guard = new ReplayGuard(null);
    const now = Date.now();
    expect(await guard.firstUse('k', 'n1', now)).toBe(true);
    expect(await guard.firstUse('k', 'n1', now + 1_000)).toBe(false);
    expect(await guard.firstUse('k2', 'n1', now + 1_000)).toBe(true);
    expect(await guard.firstUse('k', 'n1', now + 121_000)).toBe(true);
  });

  it('holds at most maxEntries', async () => {
    const guard = new ReplayGuard(null, 3);
    for (const n of ['a', 'b', 'c', 'd']) await guard.firstUse('k', n);
    expect((guard as unknown as { seen: Map<string, number> }).seen.size).toBe(3);
    expect(await guard.firstUse('k', 'd')).toBe(false);
  });
});
