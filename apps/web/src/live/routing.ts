/**
 * Which view reloads what for an event of the stream (GET /events, ADR 0021). Events carry
 * ids and a status only; a view loads what changed through the API it already uses.
 */
import type { DvdStreamItem } from '@dvd/sdk';

/** Event types that change what the official inbox lists (the stream is already filtered to the caller's authority). */
const INBOX_TYPES: ReadonlySet<string> = new Set([
  'document.status-changed',
  'document.overdue',
  'thread.claimed',
  'thread.released',
  'thread.closed',
  'message.created',
]);

/** Does the inbox reload? `reset` (events may have been missed) always reloads. */
export function touchesInbox(item: DvdStreamItem): boolean {
  return item.type === 'reset' || INBOX_TYPES.has(item.type);
}

/** Does the citizen's list of documents reload? Only their statuses show there. */
export function touchesCitizenList(item: DvdStreamItem): boolean {
  return item.type === 'reset' || item.type === 'document.status-changed';
}

export type DocumentAction =
  | { kind: 'none' }
  /** The document, its threads and history. */
  | { kind: 'reload' }
  /** Only the messages of a thread the page shows. */
  | { kind: 'messages'; threadId: string };

/**
 * What a document page (citizen's or official's) reloads for an event: nothing for other
 * documents; a thread's messages when a message arrives in a thread it shows; everything
 * for a status change, a thread's change, a message in a thread it does not know yet, or
 * `reset`.
 */
export function documentAction(item: DvdStreamItem, documentId: string, threadIds: readonly string[]): DocumentAction {
  if (item.type === 'reset') return { kind: 'reload' };
  if (item.documentId !== documentId) return { kind: 'none' };
  switch (item.type) {
    case 'message.created':
      return item.threadId && threadIds.includes(item.threadId) ? { kind: 'messages', threadId: item.threadId } : { kind: 'reload' };
    case 'thread.claimed':
    case 'thread.released':
    case 'thread.closed':
    case 'document.status-changed':
    case 'document.overdue':
    case 'appointment.reminder':
    case 'export.completed':
    case 'export.failed':
      return { kind: 'reload' };
    default:
      return { kind: 'none' };
  }
}
