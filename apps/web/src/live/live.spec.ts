import type { DvdStreamItem, WatchOptions } from '@dvd/sdk';
import { LiveEvents } from './live';

const event = (id: string) => ({ id, type: 'message.created', documentId: 'd', time: 't' }) as unknown as DvdStreamItem;

/** A stand-in for DvdClient.watchEvents: yields what the test pushes until aborted. */
function fakeStream() {
  const calls: WatchOptions[] = [];
  let push: ((item: DvdStreamItem) => void) | null = null;
  const client = {
    watchEvents: (o: WatchOptions = {}) =>
      (async function* () {
        calls.push(o);
        o.onState?.({ state: 'open' });
        const pending: DvdStreamItem[] = [];
        let wake: (() => void) | null = null;
        push = (item) => {
          pending.push(item);
          wake?.();
        };
        o.signal?.addEventListener('abort', () => wake?.());
        while (!o.signal?.aborted) {
          if (pending.length) yield pending.shift()!;
          else await new Promise<void>((r) => (wake = r));
        }
      })(),
  };
  return { client, calls, push: (item: DvdStreamItem) => push?.(item) };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('LiveEvents', () => {
  it('opens one stream on start, hands events to every subscriber, and closes at stop', async () => {
    const fake = fakeStream();
    const live = new LiveEvents(fake.client as never);
    const a: DvdStreamItem[] = [];
    const b: DvdStreamItem[] = [];
    live.subscribe((i) => a.push(i));
    const unsubscribe = live.subscribe((i) => b.push(i));
    expect(live.getStatus()).toBe('off');
    live.start();
    live.start();
    await tick();
    expect(fake.calls).toHaveLength(1);
    expect(live.getStatus()).toBe('live');
    fake.push(event('1'));
    await tick();
    unsubscribe();
    fake.push(event('2'));
    await tick();
    expect(a.map((i) => i.id)).toEqual(['1', '2']);
    expect(b.map((i) => i.id)).toEqual(['1']);
    live.stop();
    expect(live.getStatus()).toBe('off');
    expect(fake.calls[0].signal?.aborted).toBe(true);
  });

  it('tells status listeners about changes and keeps going when a subscriber throws', async () => {
    const fake = fakeStream();
    const live = new LiveEvents(fake.client as never);
    const states: string[] = [];
    live.onStatus(() => states.push(live.getStatus()));
    const seen: string[] = [];
    live.subscribe(() => {
      throw new Error('a broken view');
    });
    live.subscribe((i) => seen.push(i.id ?? ''));
    live.start();
    await tick();
    fake.push(event('5'));
    await tick();
    live.stop();
    expect(seen).toEqual(['5']);
    expect(states).toEqual(['connecting', 'live', 'off']);
  });
});
