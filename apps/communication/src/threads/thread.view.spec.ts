import { Identity, MessageSchema, ThreadSchema } from '@dvd/contracts';
import { toMessageView } from '../messages/message.service';
import { ThreadEntity } from './thread.entity';
import { toThreadView } from './thread.view';

const who = (role: Identity['role']): Identity => ({
  role,
  userId: 'u-1',
  authorityId: role === 'citizen' ? null : 'a1',
  requestId: 'r-1',
});
const id = '0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10';
const slot = { start: '2026-02-02T09:00:00.000Z', end: '2026-02-02T09:30:00.000Z' };

const thread = (over: Partial<ThreadEntity> = {}): ThreadEntity =>
  Object.assign(new ThreadEntity(), {
    id,
    documentId: id,
    citizenId: 'citizen-1',
    authorityId: 'a1',
    type: 'CHAT',
    status: 'OPEN',
    assignedOfficialId: 'official-7',
    callback: null,
    appointment: null,
    createdBy: 'citizen-1',
    createdAt: new Date('2026-01-31T09:30:00Z'),
    lastActivityAt: new Date('2026-01-31T10:00:00Z'),
    ...over,
  });

describe('toThreadView (typed as the contract’s Thread)', () => {
  it.each([
    ['a chat', thread()],
    ['a callback', thread({ type: 'CALLBACK', callback: { preferredFrom: slot.start, preferredTo: slot.end } })],
    ['an appointment', thread({ type: 'APPOINTMENT', appointment: { proposedSlots: [slot], confirmedSlot: null } })],
  ])('answers exactly the fields of the contract for %s, to citizens and officials', (_name, t) => {
    for (const role of ['citizen', 'official'] as const) {
      expect([role, ThreadSchema.strict().safeParse(toThreadView(t, who(role))).error?.issues]).toEqual([role, undefined]);
    }
  });

  it('tells citizens whether a thread is held, never by whom', () => {
    expect(toThreadView(thread(), who('citizen'))).not.toHaveProperty('assignedOfficialId');
    expect(toThreadView(thread(), who('official'))).toMatchObject({ assigned: true, assignedOfficialId: 'official-7' });
  });
});

describe('toMessageView (typed as the contract’s Message)', () => {
  it('answers exactly the fields of the contract', () => {
    const row = { id, thread_id: id, sender_role: 'official' as const, content_blob: 'eyJhbGciOi...', at: '2026-01-31T10:00:00.123456Z' };
    expect(MessageSchema.strict().safeParse(toMessageView(row)).error?.issues).toBeUndefined();
  });
});
