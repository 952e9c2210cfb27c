import { AuthorityKeyDirectory, RoutingEngineClient } from './authority-key-directory';

/** A client whose answers the test releases one by one, counting requests. */
class ControlledClient extends RoutingEngineClient {
  kids = ['k1'];
  readonly pending: Array<() => void> = [];
  sent = 0;
  getJson<T>(): Promise<T | null> {
    this.sent++;
    const answerAtSend = [...this.kids];
    return new Promise<T | null>((resolve) =>
      this.pending.push(() => resolve({ authorityId: 'a1', activeKeyIds: answerAtSend } as unknown as T)),
    );
  }
  postJson<T>(): Promise<T | null> {
    throw new Error('not used here');
  }
  releaseNext() {
    this.pending.shift()?.();
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('AuthorityKeyDirectory', () => {
  it('never answers a caller with a lookup sent before it arrived', async () => {
    const client = new ControlledClient();
    const directory = new AuthorityKeyDirectory(client);
    const early = directory.activeKids('a1'); // request 1 sent with k1 active
    client.kids = ['k2']; // k1 retired, k2 added: answered by routing-engine
    const late = [directory.activeKids('a1'), directory.activeKids('a1'), directory.activeKids('a1')];
    expect(client.sent).toBe(1); // the late callers wait for the next request, not this one
    client.releaseNext();
    expect(await early).toEqual(new Set(['k1']));
    await tick();
    expect(client.sent).toBe(2); // one request for all three late callers
    client.releaseNext();
    for (const answer of await Promise.all(late)) expect(answer).toEqual(new Set(['k2']));
  });

  it('answers null for an authority the directory does not know, and 503 when it cannot be asked', async () => {
    const missing = new AuthorityKeyDirectory({ getJson: async () => null } as unknown as RoutingEngineClient);
    expect(await missing.activeKids('x')).toBeNull();
    const down = new AuthorityKeyDirectory({
      getJson: async () => {
        throw new Error('ECONNREFUSED');
      },
    } as unknown as RoutingEngineClient);
    await expect(down.activeKids('x')).rejects.toMatchObject({ status: 503 });
    const wrong = new AuthorityKeyDirectory({
      getJson: async () => ({ authorityId: 'other', activeKeyIds: [] }),
    } as unknown as RoutingEngineClient);
    await expect(wrong.activeKids('x')).rejects.toMatchObject({ status: 503 });
  });
});
