import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/** A full garbage collection, with or without `--expose-gc`. */
export function forceGc(): void {
  if (!collect) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) collect = exposed;
    else {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    }
  }
  collect();
}

/**
 * Heap bytes in use outside the young generation: what survived at least one scavenge,
 * i.e. what is being held. Short-lived garbage (token objects, chunk slices) is not
 * counted, so a sampled peak of this is a stable measure of retained memory.
 */
export function retainedHeap(): number {
  return getHeapSpaceStatistics()
    .filter((s) => s.space_name !== 'new_space' && s.space_name !== 'new_large_object_space')
    .reduce((sum, s) => sum + s.space_used_size, 0);
}

/** Samples retainedHeap() every few milliseconds (and on demand) and keeps the peak growth. */
export class HeapPeak {
  private readonly baseline: number;
  private peak: number;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 2) {
    forceGc();
    forceGc();
    this.baseline = retainedHeap();
    this.peak = this.baseline;
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): void {
    const now = retainedHeap();
    if (now > this.peak) this.peak = now;
  }

  /** Stops sampling; the largest growth over the baseline seen, in bytes. */
  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return this.peak - this.baseline;
  }
}
