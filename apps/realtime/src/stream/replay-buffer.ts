import type { StreamEntry } from './stream-entry';

export type ResumeDecision = { kind: 'replay'; entries: StreamEntry[] } | { kind: 'reset' };

/**
 * An id further ahead of the newest offset a replica has seen than this is not a lag between
 * replicas but an id of another stream (one that was deleted and declared again): reset.
 */
export const FUTURE_OFFSET_SLACK = 10_000;

/**
 * The events of the last `windowMs` (at most `maxEntries`), in stream order, for clients that
 * reconnect with `Last-Event-ID` (ADR 0021). Offsets are the broker stream's, so they are the
 * same on every replica and a client resumes on any of them.
 *
 * `evictedThrough` is the highest offset whose event may be gone: everything before the first
 * message this replica read is older than the window (it starts reading at now − window), and
 * every entry dropped since raised it. A resume from an id at or after it misses nothing;
 * from an older id it may have, and the client is told to reload (`reset`).
 */
export class ReplayBuffer {
  private entries: StreamEntry[] = [];
  private head = 0;
  private evictedThrough = -1;
  private last = -1;

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries: number,
  ) {}

  /** The newest offset read (any message, also those nobody may see); -1 before the first. */
  get lastOffset(): number {
    return this.last;
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  /** Every message read, in order: the first one bounds what came before it. */
  observe(offset: number): void {
    if (this.last < 0) this.evictedThrough = Math.max(this.evictedThrough, offset - 1);
    if (offset > this.last) this.last = offset;
  }

  /** Keeps an entry (after `observe` of its offset); the oldest goes when the buffer is full. */
  add(entry: StreamEntry): void {
    this.entries.push(entry);
    if (this.size > this.maxEntries) this.dropOldest();
  }

  /** Drops the entries older than the window. */
  evict(now: number): void {
    const oldest = now - this.windowMs;
    while (this.size > 0 && this.entries[this.head].publishedAt < oldest) this.dropOldest();
  }

  /** What a client that last saw `lastEventId` gets: the entries after it, or a reset. */
  resume(lastEventId: number, now: number): ResumeDecision {
    this.evict(now);
    if (lastEventId > this.last + FUTURE_OFFSET_SLACK) return { kind: 'reset' };
    if (lastEventId < this.evictedThrough) return { kind: 'reset' };
    return { kind: 'replay', entries: this.after(lastEventId) };
  }

  /** The held entries with an offset above `offset`, oldest first (binary search). */
  after(offset: number): StreamEntry[] {
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid].offset <= offset) lo = mid + 1;
      else hi = mid;
    }
    return this.entries.slice(lo);
  }

  private dropOldest() {
    this.evictedThrough = Math.max(this.evictedThrough, this.entries[this.head].offset);
    this.head++;
    // compact now and then, not on every drop
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
