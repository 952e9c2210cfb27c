import { randomUUID } from 'node:crypto';
import { EventEnvelope, EventMap, EventType, StreamEventSchema } from '@dvd/contracts';
import { Listener, mayReceive, streamEventOf, toStreamEntry } from './stream-entry';

function envelope<K extends EventType>(type: K, data: EventMap[K]): EventEnvelope<K> {
  return { id: randomUUID(), type, occurredAt: '2026-01-31T09:30:00.000Z', correlationId: 'c', causationId: null, data };
}

const doc = randomUUID();
const thread = randomUUID();
const citizen: Listener = { role: 'citizen', userId: 'alice', authorityId: null, unitId: null };
const otherCitizen: Listener = { role: 'citizen', userId: 'bob', authorityId: null, unitId: null };
const official: Listener = { role: 'staff', userId: 'o1', authorityId: 'bauamt', unitId: null };
const unitOfficial: Listener = { role: 'staff', userId: 'o2', authorityId: 'bauamt', unitId: 'poststelle' };
const otherUnitOfficial: Listener = { role: 'staff', userId: 'o3', authorityId: 'bauamt', unitId: 'archiv' };
const foreignOfficial: Listener = { role: 'staff', userId: 'o4', authorityId: 'finanzamt', unitId: null };
const everyone = { citizen, otherCitizen, official, unitOfficial, otherUnitOfficial, foreignOfficial };

/** The names of the listeners an event reaches. */
function reached(env: EventEnvelope): string[] {
  const entry = toStreamEntry(env, 7, Date.now());
  if (!entry) return [];
  return Object.entries(everyone)
    .filter(([, l]) => mayReceive(l, entry.audience))
    .map(([name]) => name);
}

const audience = { citizenId: 'alice', authorityId: 'bauamt', unitId: 'poststelle' };

describe('what the stream tells whom', () => {
  it('a message reaches the document owner and the staff of its authority (and of its unit), nobody else', () => {
    const env = envelope('message.posted', {
      messageId: randomUUID(),
      threadId: thread,
      documentId: doc,
      senderRole: 'citizen',
      ...audience,
    });
    expect(reached(env)).toEqual(['citizen', 'official', 'unitOfficial']);
  });

  it.each(['thread.claimed', 'thread.released', 'thread.closed'] as const)('%s reaches owner and staff', (type) => {
    const data = { threadId: thread, documentId: doc, officialId: 'o1', ...audience };
    expect(reached(envelope(type, data as EventMap[typeof type]))).toEqual(['citizen', 'official', 'unitOfficial']);
  });

  it('a status change of an unrouted document reaches the owner and unfiltered staff only', () => {
    const env = envelope('document.status-changed', {
      documentId: doc,
      citizenId: 'alice',
      authorityId: 'bauamt',
      unitId: null,
      status: 'RECEIVED',
    });
    expect(reached(env)).toEqual(['citizen', 'official']);
  });

  it.each(['export.completed', 'export.failed', 'document.overdue'] as const)('%s reaches staff only, never the citizen', (type) => {
    const data = { jobId: randomUUID(), documentId: doc, authorityId: 'bauamt', unitId: 'poststelle', reason: 'x' };
    expect(reached(envelope(type, data as EventMap[typeof type]))).toEqual(['official', 'unitOfficial']);
  });

  it('an event published before the audience fields existed reaches nobody (rather than everybody)', () => {
    const env = envelope('message.posted', { messageId: randomUUID(), threadId: thread, documentId: doc, senderRole: 'citizen' });
    expect(toStreamEntry(env, 1, Date.now())).toBeNull();
  });

  it('carries no event the stream does not list', () => {
    const env = envelope('document.received', {
      documentId: doc,
      citizenId: 'alice',
      authorityId: 'bauamt',
      documentType: 'X',
      serviceKey: null,
      regionKey: null,
      referenceNumber: 'AZ-123/4',
      createdAt: '2026-01-31T09:30:00.000Z',
    });
    expect(toStreamEntry(env, 1, Date.now())).toBeNull();
  });

  it('tells ids, a status and the time only: no user ids, roles, reasons or anything else', () => {
    const messaged = toStreamEntry(
      envelope('message.posted', { messageId: randomUUID(), threadId: thread, documentId: doc, senderRole: 'official', ...audience }),
      41,
      0,
    )!;
    const failed = toStreamEntry(
      envelope('export.failed', { jobId: randomUUID(), documentId: doc, authorityId: 'bauamt', unitId: 'poststelle', reason: 'http-5xx' }),
      42,
      0,
    )!;
    const claimed = toStreamEntry(
      envelope('thread.claimed', { threadId: thread, documentId: doc, officialId: 'o-secret', ...audience }),
      43,
      0,
    )!;
    for (const entry of [messaged, failed, claimed]) {
      const [id, event, data] = entry.frame.split('\n');
      expect(id).toBe(`id: ${entry.offset}`);
      expect(event).toBe(`event: ${entry.type}`);
      const body = JSON.parse(data.slice('data: '.length)) as Record<string, unknown>;
      expect(StreamEventSchema.safeParse(body).success).toBe(true);
      expect(entry.frame).not.toMatch(/alice|bauamt|poststelle|o-secret|official|http-5xx/);
      expect(entry.frame.endsWith('\n\n')).toBe(true);
    }
    expect(streamEventOf(envelope('export.failed', { jobId: 'j', documentId: doc, authorityId: 'a', reason: 'r' }))?.event).toEqual({
      type: 'export.failed',
      documentId: doc,
      exportJobId: 'j',
      time: '2026-01-31T09:30:00.000Z',
    });
  });
});

describe('mayReceive', () => {
  it('never lets staff without an authority or a citizen without an owner match', () => {
    expect(mayReceive({ ...official, authorityId: null }, { citizenId: null, authorityId: 'bauamt', unitId: null })).toBe(false);
    expect(mayReceive(citizen, { citizenId: null, authorityId: 'bauamt', unitId: null })).toBe(false);
    // a citizen whose subject equals an authority id gets nothing of the authority
    expect(mayReceive({ ...citizen, userId: 'bauamt' }, { citizenId: null, authorityId: 'bauamt', unitId: null })).toBe(false);
  });
});
