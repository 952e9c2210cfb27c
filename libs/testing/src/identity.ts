import { Identity, Role } from '@dvd/contracts';
import { signIdentity } from '@dvd/platform';
import request from 'supertest';
import type { App } from 'supertest/types';
import { TEST_INTERNAL_SECRET } from './infra';

export type TestUser = { userId: string; role: Role; authorityId?: string | null };

export const citizen = (userId = 'citizen-1'): TestUser => ({ userId, role: 'citizen' });
export const official = (authorityId: string, userId = `official-${authorityId}`): TestUser => ({ userId, role: 'official', authorityId });
export const admin = (authorityId: string, userId = `admin-${authorityId}`): TestUser => ({ userId, role: 'admin', authorityId });
export const platformAdmin = (userId = 'platform-admin-1'): TestUser => ({ userId, role: 'platform-admin', authorityId: 'platform' });
export const service = (userId: string): TestUser => ({ userId, role: 'service' });

/** Identity headers as the gateway stamps them, for `fetch` calls straight to a service. */
export function signedHeaders(user: TestUser, method: string, path: string, secret = TEST_INTERNAL_SECRET): Record<string, string> {
  const identity: Identity = {
    userId: user.userId,
    role: user.role,
    authorityId: user.authorityId ?? null,
    requestId: `test-${Date.now()}`,
  };
  return signIdentity(secret, identity, method, path);
}

/**
 * Requests to a service as the gateway would send them: identity headers signed with the
 * test secret. `as(user).get('/api/v1/...')`.
 */
export function signedClient(app: App, secret = TEST_INTERNAL_SECRET) {
  return {
    as(user: TestUser) {
      const headers = (method: string, path: string) => {
        const identity: Identity = {
          userId: user.userId,
          role: user.role,
          authorityId: user.authorityId ?? null,
          requestId: `test-${Date.now()}`,
        };
        return signIdentity(secret, identity, method, path);
      };
      const r = request(app);
      return {
        get: (path: string) => r.get(path).set(headers('GET', path)),
        post: (path: string) => r.post(path).set(headers('POST', path)),
        put: (path: string) => r.put(path).set(headers('PUT', path)),
        patch: (path: string) => r.patch(path).set(headers('PATCH', path)),
        delete: (path: string) => r.delete(path).set(headers('DELETE', path)),
      };
    },
  };
}
