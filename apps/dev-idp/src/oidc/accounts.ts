import { Scope } from '@dvd/contracts';

/** The roles the official issuer hands out, and the scope that carries each (the gateway reads it). */
export const OFFICIAL_ROLES = ['official', 'admin', 'platform-admin'] as const;
export type OfficialRole = (typeof OFFICIAL_ROLES)[number];

export const ROLE_SCOPE: Record<OfficialRole, string> = {
  official: Scope.official,
  admin: Scope.admin,
  'platform-admin': Scope.platformAdmin,
};
export const DVD_SCOPES: readonly string[] = Object.values(ROLE_SCOPE);

/** A user id as the picker accepts it: letters, digits and `._@+-`, at most 200 characters (the gateway's limit). */
export const SUB_PATTERN = /^[A-Za-z0-9._@+-]{1,200}$/;
/** An authority id as the gateway accepts it. */
export const AUTHORITY_PATTERN = /^[a-z0-9-]{2,50}$/;

/**
 * What was picked at an official's login beyond the user id: kept per grant, so that two
 * logins of the same user id with different roles or authorities (two browser profiles,
 * parallel tests) never see each other's choice, and a refresh token keeps the choice it
 * was issued under.
 */
export interface OfficialLogin {
  role: OfficialRole;
  authority: string;
}

export function isOfficialRole(value: unknown): value is OfficialRole {
  return typeof value === 'string' && (OFFICIAL_ROLES as readonly string[]).includes(value);
}
