/** Roles as the gateway derives them from issuer and scope (docs/api-conventions.md, "Base path and identity"). */
export const ROLES = ['citizen', 'official', 'admin', 'platform-admin', 'service'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that act for an authority and therefore always carry an authority id. */
export const AUTHORITY_ROLES: readonly Role[] = ['official', 'admin', 'platform-admin'];

/**
 * Headers the gateway stamps on every forwarded request. Services trust them only
 * when the Ed25519 signature over them verifies (see libs/platform/auth-context, ADR 0014).
 */
export const IdentityHeader = {
  userId: 'x-user-id',
  role: 'x-user-role',
  authorityId: 'x-authority-id',
  requestId: 'x-request-id',
  timestamp: 'x-identity-timestamp',
  signature: 'x-identity-signature',
  /** Which key signed: names the signer (the gateway, or one calling service). */
  keyId: 'x-identity-key-id',
  /** A random 128-bit id: a service accepts each signature once. */
  nonce: 'x-identity-nonce',
  /** What the signature says about the body: its sha-256, or `streamed <length> <content-type>`. */
  body: 'x-identity-body',
  /** When the user's token expires (seconds since the epoch): the realtime stream ends then (ADR 0021). */
  expires: 'x-identity-expires',
} as const;

/** Every identity header name; the gateway drops all of them from client requests. */
export const IDENTITY_HEADER_NAMES: readonly string[] = Object.values(IdentityHeader);

export interface Identity {
  userId: string;
  role: Role;
  /** Set for officials, admins and platform admins; empty for citizens and services. */
  authorityId: string | null;
  requestId: string;
  /** Seconds since the epoch when the user's token expires; stamped by the gateway, absent for services. */
  expiresAt?: number;
}

/** Token scopes on authority-IdP tokens. */
export const Scope = {
  official: 'dvd:official',
  admin: 'dvd:admin',
  platformAdmin: 'dvd:platform-admin',
} as const;
