import { FUTURE_OFFSET_SLACK, ReplayBuffer } from './replay-buffer';
import type { StreamEntry } from './stream-entry';

const entry = (offset: number, publishedAt: number): StreamEntry => ({
  offset,
  publishedAt,
  type: 'message.created',
  audience: { citizenId: 'c', authorityId: 'a', unitId: null },
  frame: `id: ${offset}\n\n`,
});

/** Reads offsets `from`..`to` as the stream delivers them; every `every`-th one is an entry. */
function read(buffer: ReplayBuffer, from: number, to: number, at: number, every = 1) {
  for (let o = from; o <= to; o++) {
    buffer.observe(o);
    if (o % every === 0) buffer.add(entry(o, at));
  }
}

const offsets = (d: ReturnType<ReplayBuffer['resume']>) => (d.kind === 'replay' ? d.entries.map((e) => e.offset) : d.kind);

describe('ReplayBuffer', () => {
  it('replays what came after the last event id, oldest first', () => {
    const b = new ReplayBuffer(300_000, 1000);
    read(b, 100, 110, 1_000);
    expect(offsets(b.resume(105, 2_000))).toEqual([106, 107, 108, 109, 110]);
    expect(offsets(b.resume(110, 2_000))).toEqual([]);
    // a replica a little behind another: nothing yet, the rest arrives live
    expect(offsets(b.resume(115, 2_000))).toEqual([]);
  });

  it('resumes from an id the client got on a heartbeat although nobody may see that offset', () => {
    const b = new ReplayBuffer(300_000, 1000);
    read(b, 0, 30, 1_000, 10); // entries at 0, 10, 20, 30
    expect(offsets(b.resume(15, 2_000))).toEqual([20, 30]);
  });

  it('resets a client whose id is from before what this replica read (older than the window)', () => {
    const b = new ReplayBuffer(300_000, 1000);
    read(b, 500, 510, 1_000);
    expect(offsets(b.resume(499, 2_000))).toEqual([500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 510]);
    expect(b.resume(498, 2_000)).toEqual({ kind: 'reset' });
  });

  it('drops events older than the window, and resets a client that would need them', () => {
    const b = new ReplayBuffer(60_000, 1000);
    read(b, 0, 4, 1_000);
    read(b, 5, 9, 50_000);
    b.evict(61_001 + 1);
    expect(b.size).toBe(5);
    expect(b.resume(3, 61_002)).toEqual({ kind: 'reset' });
    expect(offsets(b.resume(4, 61_002))).toEqual([5, 6, 7, 8, 9]);
  });

  it('holds at most maxEntries; what it dropped cannot be resumed', () => {
    const b = new ReplayBuffer(300_000, 100);
    read(b, 0, 5_000, 1_000);
    expect(b.size).toBe(100);
    expect(offsets(b.resume(4_900, 2_000))).toHaveLength(100);
    expect(b.resume(4_899, 2_000)).toEqual({ kind: 'reset' });
  });

  it('resets an id far ahead of the stream (a stream declared anew)', () => {
    const b = new ReplayBuffer(300_000, 100);
    read(b, 0, 10, 1_000);
    expect(offsets(b.resume(10 + FUTURE_OFFSET_SLACK, 2_000))).toEqual([]);
    expect(b.resume(11 + FUTURE_OFFSET_SLACK, 2_000)).toEqual({ kind: 'reset' });
  });
});
