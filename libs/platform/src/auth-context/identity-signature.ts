import { createHmac, timingSafeEqual } from 'node:crypto';
import { Identity, IdentityHeader, ROLES, Role } from '@dvd/contracts';

/** How long a stamped identity stays valid: covers clock skew and slow uploads' headers. */
export const IDENTITY_MAX_AGE_SECONDS = 300;

function canonical(id: Identity, method: string, path: string, timestamp: string): string {
  return ['v1', id.userId, id.role, id.authorityId ?? '', id.requestId, method.toUpperCase(), path, timestamp].join('\n');
}

function mac(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('base64url');
}

/**
 * The headers the gateway (or a service calling another service) sends downstream. The
 * HMAC binds identity to method, path and time, so captured headers cannot be replayed
 * against another route or later.
 */
export function signIdentity(secret: string, identity: Identity, method: string, path: string, now = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  return {
    [IdentityHeader.userId]: identity.userId,
    [IdentityHeader.role]: identity.role,
    [IdentityHeader.authorityId]: identity.authorityId ?? '',
    [IdentityHeader.requestId]: identity.requestId,
    [IdentityHeader.timestamp]: timestamp,
    [IdentityHeader.signature]: mac(secret, canonical(identity, method, path, timestamp)),
  };
}

type Headers = Record<string, string | string[] | undefined>;
const one = (h: Headers, name: string) => {
  const v = h[name];
  return Array.isArray(v) ? undefined : v;
};

/** Returns the identity when the signature verifies, otherwise null. */
export function verifyIdentity(secret: string, headers: Headers, method: string, path: string, now = Date.now()): Identity | null {
  const userId = one(headers, IdentityHeader.userId);
  const role = one(headers, IdentityHeader.role);
  const authorityId = one(headers, IdentityHeader.authorityId) ?? '';
  const requestId = one(headers, IdentityHeader.requestId);
  const timestamp = one(headers, IdentityHeader.timestamp);
  const signature = one(headers, IdentityHeader.signature);
  if (!userId || !role || !requestId || !timestamp || !signature) return null;
  if (!(ROLES as readonly string[]).includes(role)) return null;
  const ts = Number(timestamp);
  if (!Number.isInteger(ts) || Math.abs(now / 1000 - ts) > IDENTITY_MAX_AGE_SECONDS) return null;
  const identity: Identity = { userId, role: role as Role, authorityId: authorityId || null, requestId };
  const expected = Buffer.from(mac(secret, canonical(identity, method, path, timestamp)));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  return identity;
}
