import { Identity, Role } from '@dvd/contracts';
import {
  DevIdentityKeys,
  VerifyKey,
  bodyDigest,
  devIdentityEnv,
  generateDevIdentityKeys,
  isStreamedContentType,
  parseHmacKeys,
  parseSigningKey,
  parseVerifyKeys,
  signIdentity,
  streamedBody,
} from '@dvd/platform';
import request from 'supertest';
import type { App } from 'supertest/types';

export type TestUser = { userId: string; role: Role; authorityId?: string | null };

export const citizen = (userId = 'citizen-1'): TestUser => ({ userId, role: 'citizen' });
export const official = (authorityId: string, userId = `official-${authorityId}`): TestUser => ({ userId, role: 'official', authorityId });
export const admin = (authorityId: string, userId = `admin-${authorityId}`): TestUser => ({ userId, role: 'admin', authorityId });
export const platformAdmin = (userId = 'platform-admin-1'): TestUser => ({ userId, role: 'platform-admin', authorityId: 'platform' });
export const service = (userId: string): TestUser => ({ userId, role: 'service' });

/** One identity key set per test process: the gateway's key, the calling services' keys, the public set. */
export const TEST_IDENTITY_KEYS: DevIdentityKeys = generateDevIdentityKeys('test');

/** The identity variables of one app under test (`IDENTITY_VERIFY_KEYS`, its own signing key if it has one). */
export const testIdentityEnv = (app: string, keys = TEST_IDENTITY_KEYS) => devIdentityEnv(keys, app);

/**
 * The keys a service verifies identities with, as its IdentityVerifier holds them: the
 * public set and the secret it shares with the gateway (ADR 0025).
 */
export function verifyKeysOf(service: string, keys = TEST_IDENTITY_KEYS): Map<string, VerifyKey> {
  const map = parseVerifyKeys(keys.verifyKeys);
  const shared = devIdentityEnv(keys, service).IDENTITY_HMAC_KEYS;
  for (const k of shared ? parseHmacKeys(shared) : []) map.set(k.kid, { signer: k.signer, key: k.key });
  return map;
}

/** The key a user's identity is signed with: a service's own key for role `service`, else the gateway's. */
function keyFor(user: TestUser, keys: DevIdentityKeys): string {
  return user.role === 'service' && keys.services[user.userId] ? keys.services[user.userId] : keys.gateway;
}

export interface SignedBody {
  /** The body as it will be sent (JSON: the exact serialised text). */
  body?: Buffer | string;
  /** Multipart uploads are bound to content type and length instead of a digest. */
  contentType?: string;
  /** A multipart body sent with chunked transfer coding (no Content-Length). */
  chunked?: boolean;
  keys?: DevIdentityKeys;
}

/** Identity headers as the gateway stamps them, for `fetch` calls straight to a service. Each call is a new signature. */
export function signedHeaders(user: TestUser, method: string, path: string, o: SignedBody = {}): Record<string, string> {
  const identity: Identity = {
    userId: user.userId,
    role: user.role,
    authorityId: user.authorityId ?? null,
    requestId: `test-${Date.now()}`,
  };
  const body = o.body ?? '';
  const binding =
    o.contentType && isStreamedContentType(o.contentType)
      ? streamedBody(o.contentType, o.chunked ? 'chunked' : Buffer.byteLength(body))
      : bodyDigest(body);
  return signIdentity(parseSigningKey(keyFor(user, o.keys ?? TEST_IDENTITY_KEYS)), identity, method, path, binding);
}

type SuperagentInternals = { _data?: unknown };

/**
 * Requests to a service as the gateway would send them: identity headers signed with the
 * test keys, over the JSON body actually sent. `as(user).post('/api/v1/...').send({...})`.
 */
export function signedClient(app: App, keys = TEST_IDENTITY_KEYS) {
  return {
    as(user: TestUser) {
      const r = request(app);
      const sign = (test: request.Test, method: string, path: string) => {
        const end = test.end.bind(test);
        // signed at the last moment, when the body is known (superagent serialises JSON with JSON.stringify)
        test.end = (fn) => {
          const data = (test as unknown as SuperagentInternals)._data;
          const body = data === undefined ? '' : typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data);
          test.set(signedHeaders(user, method, path, { body, keys }));
          return end(fn);
        };
        return test;
      };
      return {
        get: (path: string) => sign(r.get(path), 'GET', path),
        post: (path: string) => sign(r.post(path), 'POST', path),
        put: (path: string) => sign(r.put(path), 'PUT', path),
        patch: (path: string) => sign(r.patch(path), 'PATCH', path),
        delete: (path: string) => sign(r.delete(path), 'DELETE', path),
      };
    },
  };
}
