import { Identity } from '@dvd/contracts';
import { ApiError } from '@dvd/platform';

export const threadNotFound = () => ApiError.notFound('thread', 'thread-not-found');

export function isOfficial(who: Identity): boolean {
  return who.role === 'official' || who.role === 'admin' || who.role === 'platform-admin';
}

/** Parties of a thread: the document's citizen, and the officials of the document's authority. */
export function isParty(who: Identity, thread: { citizenId: string; authorityId: string }): boolean {
  if (who.role === 'citizen') return thread.citizenId === who.userId;
  return isOfficial(who) && thread.authorityId === who.authorityId;
}
