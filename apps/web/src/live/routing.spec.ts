import type { DvdStreamItem } from '@dvd/sdk';
import { documentAction, touchesCitizenList, touchesInbox } from './routing';

const DOC = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';
const THREAD = '33333333-3333-4333-8333-333333333333';
const NEW_THREAD = '44444444-4444-4444-8444-444444444444';
const time = '2026-12-03T12:00:00.000Z';
const ev = (type: string, extra: Record<string, unknown> = {}) =>
  ({ id: '7', type, documentId: DOC, time, ...extra }) as unknown as DvdStreamItem;

describe('live routing', () => {
  it('the inbox reloads for status changes, claims, releases, closes, messages, overdue documents and reset', () => {
    for (const type of [
      'document.status-changed',
      'document.overdue',
      'thread.claimed',
      'thread.released',
      'thread.closed',
      'message.created',
    ])
      expect(touchesInbox(ev(type))).toBe(true);
    expect(touchesInbox({ type: 'reset' })).toBe(true);
  });

  it('the inbox ignores exports and appointment reminders', () => {
    expect(touchesInbox(ev('export.completed'))).toBe(false);
    expect(touchesInbox(ev('export.failed'))).toBe(false);
    expect(touchesInbox(ev('appointment.reminder'))).toBe(false);
  });

  it("the citizen's list reloads for status changes and reset only", () => {
    expect(touchesCitizenList(ev('document.status-changed', { status: 'ACCEPTED' }))).toBe(true);
    expect(touchesCitizenList({ type: 'reset' })).toBe(true);
    expect(touchesCitizenList(ev('message.created'))).toBe(false);
    expect(touchesCitizenList(ev('thread.claimed'))).toBe(false);
  });

  it('a message in a thread the page shows reloads only that thread', () => {
    expect(documentAction(ev('message.created', { threadId: THREAD, messageId: OTHER }), DOC, [THREAD])).toEqual({
      kind: 'messages',
      threadId: THREAD,
    });
  });

  it('a message in a thread the page does not show yet reloads the page (its threads)', () => {
    expect(documentAction(ev('message.created', { threadId: NEW_THREAD }), DOC, [THREAD])).toEqual({ kind: 'reload' });
  });

  it('status and thread changes of the document reload the page', () => {
    for (const type of [
      'document.status-changed',
      'thread.claimed',
      'thread.released',
      'thread.closed',
      'document.overdue',
      'export.completed',
    ])
      expect(documentAction(ev(type, { threadId: THREAD }), DOC, [THREAD])).toEqual({ kind: 'reload' });
  });

  it('events of other documents leave the page alone; reset reloads it', () => {
    expect(documentAction(ev('message.created', { documentId: OTHER, threadId: THREAD }), DOC, [THREAD])).toEqual({ kind: 'none' });
    expect(documentAction(ev('document.status-changed', { documentId: OTHER }), DOC, [])).toEqual({ kind: 'none' });
    expect(documentAction({ type: 'reset', id: '9' }, DOC, [])).toEqual({ kind: 'reload' });
  });
});
