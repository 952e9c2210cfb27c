import { FreshLookups } from './fresh-lookups';

/** Lookups the test answers (or fails) one by one, each with the value current when it was sent. */
function controlled(timeoutMs = 60_000) {
  const pending: Array<{ resolve: (v: string) => void; reject: (e: Error) => void; valueAtSend: string }> = [];
  const state = { value: 'v1', sent: 0 };
  const lookups = new FreshLookups<string>(
    (key) =>
      new Promise<string>((resolve, reject) => {
        state.sent++;
        pending.push({ resolve, reject, valueAtSend: `${key}:${state.value}` });
      }),
    { timeoutMs, timedOut: () => new Error('timed out') },
  );
  const answer = () => {
    const p = pending.shift()!;
    p.resolve(p.valueAtSend);
  };
  const fail = () => pending.shift()!.reject(new Error('down'));
  return { lookups, state, answer, fail };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('FreshLookups', () => {
  it('shares one lookup among the callers that arrived before it was sent, per key', async () => {
    const { lookups, state, answer } = controlled();
    const first = lookups.get('a');
    const other = lookups.get('b');
    expect(state.sent).toBe(2); // one per key
    state.value = 'v2';
    const late = [lookups.get('a'), lookups.get('a')];
    expect(state.sent).toBe(2);
    answer();
    expect(await first).toBe('a:v1');
    await tick();
    expect(state.sent).toBe(3); // one more for both late callers
    answer(); // b
    answer(); // the late a
    expect(await other).toBe('b:v1');
    expect(await Promise.all(late)).toEqual(['a:v2', 'a:v2']);
    expect(lookups.size).toBe(0); // nothing kept
    const again = lookups.get('a');
    expect(state.sent).toBe(4); // and nothing remembered: a new caller, a new lookup
    answer();
    expect(await again).toBe('a:v2');
  });

  it('gives a failure only to the callers of the failed lookup; the queued ones get a lookup of their own', async () => {
    const { lookups, state, answer, fail } = controlled();
    const first = lookups.get('a');
    const queued = lookups.get('a');
    fail();
    await expect(first).rejects.toThrow('down');
    await tick();
    expect(state.sent).toBe(2);
    answer();
    expect(await queued).toBe('a:v1');
    expect(lookups.size).toBe(0);
  });

  it('fails the callers of a lookup that hangs, and the next caller starts a new one', async () => {
    const { lookups, state, answer } = controlled(30);
    const stuck = lookups.get('a'); // never answered
    const queued = lookups.get('a');
    await expect(stuck).rejects.toThrow('timed out');
    await tick();
    expect(state.sent).toBe(2); // the queued caller got a lookup of its own
    answer(); // the stuck one's answer, late: nobody waits for it any more
    answer();
    expect(await queued).toBe('a:v1');
    expect(lookups.size).toBe(0);
  });

  it('fails the callers of a fetch that throws at once, without keeping the key', async () => {
    const lookups = new FreshLookups<string>(
      () => {
        throw new Error('at once');
      },
      { timeoutMs: 60_000, timedOut: () => new Error('timed out') },
    );
    await expect(lookups.get('a')).rejects.toThrow('at once');
    expect(lookups.size).toBe(0);
  });
});
