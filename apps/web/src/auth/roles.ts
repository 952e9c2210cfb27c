/** What a person chooses on the start page; it decides the issuer and the scope asked for. */
export type LoginRole = 'citizen' | 'official' | 'admin';
export const LOGIN_ROLES: readonly LoginRole[] = ['citizen', 'official', 'admin'];

export type IssuerKind = 'citizen' | 'official';

/** The platform's role as the gateway derives it (docs/api-conventions.md: the strongest scope wins). */
export type ApiRole = 'citizen' | 'official' | 'admin' | 'platform-admin';

export function issuerFor(role: LoginRole): IssuerKind {
  return role === 'citizen' ? 'citizen' : 'official';
}

/** Scopes asked for: `openid offline_access` plus the role's scope on the authority IdP. */
export function scopeFor(role: LoginRole): string {
  switch (role) {
    case 'citizen':
      return 'openid offline_access';
    case 'official':
      return 'openid offline_access dvd:official';
    case 'admin':
      return 'openid offline_access dvd:admin';
  }
}

export function apiRoleOf(issuer: IssuerKind, scope: string | undefined): ApiRole {
  if (issuer === 'citizen') return 'citizen';
  const scopes = new Set((scope ?? '').split(/\s+/));
  if (scopes.has('dvd:platform-admin')) return 'platform-admin';
  if (scopes.has('dvd:admin')) return 'admin';
  return 'official';
}

export const isStaff = (r: ApiRole) => r !== 'citizen';
export const isAdmin = (r: ApiRole) => r === 'admin' || r === 'platform-admin';

/** Where a role starts after login. */
export function homeOf(r: ApiRole): string {
  if (r === 'citizen') return '/citizen';
  return isAdmin(r) ? '/admin' : '/official';
}

/** Reads a JWT's payload without verifying it (the gateway verifies; the app only displays). */
export function jwtClaims(token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(
      Array.from(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '=')), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''),
    );
    const claims: unknown = JSON.parse(json);
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
