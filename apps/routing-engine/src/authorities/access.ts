import { AuthorityParams, Identity } from '@dvd/contracts';
import { ApiError, parsePathParams } from '@dvd/platform';

export const authorityNotFound = () => ApiError.notFound('authority', 'authority-not-found');

/** The authority id of the path (the contract's `AuthorityParams`); anything else names no authority (404). */
export const authorityId = (params: unknown): string => parsePathParams(AuthorityParams, params, authorityNotFound).id;

/** Admins (and platform admins) of this very authority; everyone else sees 404. */
export function assertAdminOf(viewer: Identity, authorityId: string): void {
  if ((viewer.role !== 'admin' && viewer.role !== 'platform-admin') || viewer.authorityId !== authorityId) throw authorityNotFound();
}

/** Any official, admin or platform admin of this authority. */
export function assertMemberOf(viewer: Identity, authorityId: string): void {
  if (viewer.role === 'citizen' || viewer.role === 'service' || viewer.authorityId !== authorityId) throw authorityNotFound();
}
