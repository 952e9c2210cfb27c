/**
 * The case workflow as the app shows it (docs/case-workflow.md): statuses, decisions, reasons
 * and who may do what. The lists repeat libs/contracts as plain constants — importing them
 * would bring zod into the first page load (see patterns.ts); a unit test holds them equal.
 * The server stays the judge: these decide only which controls the page offers.
 */
import type { DocumentHistoryEntry, DvdDocument } from '@dvd/sdk';

export type DocumentStatus = DvdDocument['status'];
export type RejectReason = NonNullable<DvdDocument['rejection']>['reasonCode'];
export type ActorRole = DocumentHistoryEntry['actorRole'];

export const DOCUMENT_STATUSES = [
  'RECEIVED',
  'ROUTED',
  'ASSIGNED',
  'EXPORTED',
  'ACCEPTED',
  'REJECTED',
  'FORWARDED',
] as const satisfies readonly DocumentStatus[];
export const PROGRESS_STATUSES = ['RECEIVED', 'ROUTED', 'ASSIGNED', 'EXPORTED'] as const satisfies readonly DocumentStatus[];
export const DECISION_STATUSES = ['ACCEPTED', 'REJECTED', 'FORWARDED'] as const satisfies readonly DocumentStatus[];
export const REJECT_REASON_CODES = [
  'NOT_RESPONSIBLE',
  'INCOMPLETE',
  'UNREADABLE',
  'DUPLICATE',
  'OTHER',
] as const satisfies readonly RejectReason[];
export const HISTORY_ACTOR_ROLES = ['citizen', 'official', 'admin', 'platform-admin', 'system'] as const satisfies readonly ActorRole[];
/** Statuses from which an admin may route a document again (ADR 0020: nobody has taken it up yet). */
export const REROUTABLE_STATUSES = ['RECEIVED', 'ROUTED'] as const satisfies readonly DocumentStatus[];
/** The largest rejection note (its JWE) the platform takes, in characters. */
export const MAX_REJECT_NOTE_CHARS = 64 * 1024;
/** The longest note the form takes, in characters: for ordinary text its JWE stays well below the platform's limit. */
export const MAX_NOTE_LENGTH = 10_000;

export const isDecided = (status: DocumentStatus): boolean => (DECISION_STATUSES as readonly string[]).includes(status);

/** A step of the timeline: a status, or the decision still to come. */
export type TimelineKey = DocumentStatus | 'DECISION';
export interface TimelineStep {
  key: TimelineKey;
  state: 'done' | 'current' | 'todo';
}

/**
 * The document's way as steps. Undecided: the progress steps (done up to the status, then to
 * come) and the decision still to come. Decided: the progress steps it really went through
 * before the decision (from the history; without one, only its arrival is certain), then the
 * decision as the last, current step — a decision is final, nothing follows it.
 */
export function timelineSteps(status: DocumentStatus, history?: ReadonlyArray<Pick<DocumentHistoryEntry, 'state'>>): TimelineStep[] {
  if (!isDecided(status)) {
    const at = (PROGRESS_STATUSES as readonly string[]).indexOf(status);
    return [
      ...PROGRESS_STATUSES.map((key, i): TimelineStep => ({ key, state: i < at ? 'done' : i === at ? 'current' : 'todo' })),
      { key: 'DECISION', state: 'todo' },
    ];
  }
  const before = new Set<string>(['RECEIVED']);
  for (const entry of history ?? []) {
    if (isDecided(entry.state)) break;
    before.add(entry.state);
  }
  return [
    ...PROGRESS_STATUSES.filter((s) => before.has(s)).map((key): TimelineStep => ({ key, state: 'done' })),
    { key: status, state: 'current' },
  ];
}

interface Holder {
  role: 'citizen' | 'official' | 'admin' | 'platform-admin';
  sub: string;
}

/**
 * Whether the person may accept, reject or forward: an admin of the document's authority, or
 * the official who holds (claimed) a thread of the document, open or closed.
 */
export function mayDecide(who: Holder, threads: ReadonlyArray<{ assignedOfficialId?: string | null }>): boolean {
  if (who.role === 'admin' || who.role === 'platform-admin') return true;
  return who.role === 'official' && threads.some((t) => t.assignedOfficialId === who.sub);
}

/** Whether the person may route the document again (admins; only while nobody has taken it up). */
export function mayReroute(role: Holder['role'], status: DocumentStatus): boolean {
  return (role === 'admin' || role === 'platform-admin') && (REROUTABLE_STATUSES as readonly string[]).includes(status);
}
