interface Slot<V> {
  current?: Promise<V>;
  next?: Promise<V>;
}

export interface FreshLookupsOptions {
  /** A lookup that has not settled by then fails its callers, and the next caller starts a new one. */
  timeoutMs: number;
  /** The error its callers get then. */
  timedOut: () => Error;
}

/**
 * Concurrent lookups of one key share requests, but only requests sent after they arrived:
 * a caller that finds a lookup under way waits for the next one (at most one in flight and
 * one queued per key), so a burst costs two round trips, not one per caller, and no answer
 * predates the caller that uses it. Nothing is kept once the lookups of a key are done, and
 * a lookup that hangs holds its callers no longer than `timeoutMs`: one stuck request must
 * not hold every later caller of its key.
 */
export class FreshLookups<V> {
  private readonly slots = new Map<string, Slot<V>>();

  constructor(
    private readonly fetch: (key: string) => Promise<V>,
    private readonly o: FreshLookupsOptions,
  ) {}

  get(key: string): Promise<V> {
    const slot: Slot<V> = this.slots.get(key) ?? {};
    this.slots.set(key, slot);
    const inFlight = slot.current;
    if (!inFlight) return this.start(key, slot);
    // the lookup under way was sent before this caller arrived: join the next one
    slot.next ??= inFlight
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        slot.next = undefined;
        return this.start(key, slot);
      });
    return slot.next;
  }

  /** Keys with a lookup in flight or queued (for tests). */
  get size(): number {
    return this.slots.size;
  }

  private start(key: string, slot: Slot<V>): Promise<V> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.o.timedOut()), this.o.timeoutMs);
      timer.unref();
    });
    let fetched: Promise<V>;
    try {
      fetched = this.fetch(key); // sent now, not a tick later
    } catch (err) {
      fetched = Promise.reject(err as Error); // a fetch that throws at once fails its callers like one that rejects
    }
    const lookup: Promise<V> = Promise.race([fetched, limit]).finally(() => {
      clearTimeout(timer);
      if (slot.current === lookup) slot.current = undefined;
      if (!slot.current && !slot.next && this.slots.get(key) === slot) this.slots.delete(key);
    });
    slot.current = lookup;
    return lookup;
  }
}
