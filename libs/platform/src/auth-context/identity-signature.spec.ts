import { Identity } from '@dvd/contracts';
import { signIdentity, verifyIdentity } from './identity-signature';

const secret = 's'.repeat(32);
const id: Identity = { userId: 'u1', role: 'official', authorityId: 'a1', requestId: 'r1' };

describe('identity signature', () => {
  it('round-trips a signed identity', () => {
    const h = signIdentity(secret, id, 'GET', '/api/v1/documents');
    expect(verifyIdentity(secret, h, 'GET', '/api/v1/documents')).toEqual(id);
  });

  it.each([
    ['another secret', (h: Record<string, string>) => ({ h, secret: 't'.repeat(32) })],
    ['a forged role', (h: Record<string, string>) => ({ h: { ...h, 'x-user-role': 'platform-admin' }, secret })],
    ['a forged authority', (h: Record<string, string>) => ({ h: { ...h, 'x-authority-id': 'a2' }, secret })],
    ['a missing signature', (h: Record<string, string>) => ({ h: { ...h, 'x-identity-signature': '' }, secret })],
    ['an unknown role', (h: Record<string, string>) => ({ h: { ...h, 'x-user-role': 'root' }, secret })],
  ])('rejects %s', (_name, mutate) => {
    const { h, secret: s } = mutate(signIdentity(secret, id, 'GET', '/x'));
    expect(verifyIdentity(s, h, 'GET', '/x')).toBeNull();
  });

  it('binds method, path and time', () => {
    const now = Date.now();
    const h = signIdentity(secret, id, 'GET', '/a', now);
    expect(verifyIdentity(secret, h, 'DELETE', '/a', now)).toBeNull();
    expect(verifyIdentity(secret, h, 'GET', '/b', now)).toBeNull();
    expect(verifyIdentity(secret, h, 'GET', '/a', now + 301_000)).toBeNull();
    expect(verifyIdentity(secret, h, 'GET', '/a', now + 60_000)).toEqual(id);
  });
});
