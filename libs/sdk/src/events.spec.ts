import { DvdClient } from './client';
import { DvdProblemError } from './errors';
import type { DvdStreamItem, WatchState } from './events';

/**
 * watchEvents against an injected `fetch` that answers each request with a scripted stream
 * (a unit test of the client's reading, resuming and reconnecting; no server behind it).
 */

const BASE = 'https://dvd.example/api/v1';
const doc = '0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10';

interface Call {
  url: URL;
  headers: Headers;
}

/** A stream of these chunks; `open` keeps it open after them until the reader cancels. */
function sse(chunks: string[], o: { open?: boolean; onCancel?: () => void } = {}): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      if (!o.open) controller.close();
    },
    cancel() {
      o.onCancel?.();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

const event = (id: number, type = 'document.status-changed', status = 'ROUTED') =>
  `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ type, documentId: doc, status, time: '2026-01-31T09:30:00.000Z' })}\n\n`;

function stub(answers: Array<(call: Call) => Response>) {
  const calls: Call[] = [];
  const fetchStub = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const call = { url: new URL(String(input)), headers: new Headers(init.headers) };
    calls.push(call);
    const answer = answers[calls.length - 1];
    if (!answer) return new Promise<Response>(() => undefined); // nothing more scripted: hang
    return answer(call);
  };
  return { fetch: fetchStub as typeof fetch, calls };
}

async function take(it: AsyncGenerator<DvdStreamItem>, n: number): Promise<DvdStreamItem[]> {
  const out: DvdStreamItem[] = [];
  for await (const item of it) {
    out.push(item);
    if (out.length === n) break;
  }
  return out;
}

describe('DvdClient.watchEvents', () => {
  it('reads events in order with the token in the header, and resumes after the last id (also of a heartbeat) when the stream ends', async () => {
    const { fetch, calls } = stub([
      () => sse(['retry: 10\n\n', 'id: 3\n\n', event(4).slice(0, 20), event(4).slice(20), ':\n\nid: 9\n\n']),
      () => sse([event(10, 'message.created')], { open: true }),
    ]);
    const client = new DvdClient({ baseUrl: BASE, token: 'tok', fetch });
    const items = await take(client.watchEvents({ unitId: 'poststelle' }), 2);
    expect(items).toEqual([
      { type: 'document.status-changed', documentId: doc, status: 'ROUTED', time: '2026-01-31T09:30:00.000Z', id: '4' },
      { type: 'message.created', documentId: doc, status: 'ROUTED', time: '2026-01-31T09:30:00.000Z', id: '10' },
    ]);
    expect(calls[0].url.pathname).toBe('/api/v1/events');
    expect(calls[0].url.searchParams.get('unitId')).toBe('poststelle');
    expect(calls[0].url.searchParams.has('ticket')).toBe(false);
    expect(calls[0].headers.get('authorization')).toBe('Bearer tok');
    expect(calls[0].headers.get('accept')).toBe('text/event-stream');
    expect(calls[0].headers.get('last-event-id')).toBeNull();
    expect(calls[1].headers.get('last-event-id')).toBe('9'); // the heartbeat's position, not the last event's
  });

  it('starts from a saved id, yields reset, and reconnects at once with a fresh token when the token expired', async () => {
    let token = 0;
    const { fetch, calls } = stub([
      () => sse(['event: reset\ndata: {"type":"reset","reason":"last-event-id-outside-window"}\n\n', event(20)]),
      () => sse(['event: expired\ndata: {"type":"expired","reason":"token-expired"}\n\n']),
      () => sse([event(21)], { open: true }),
    ]);
    const states: WatchState[] = [];
    const client = new DvdClient({ baseUrl: BASE, token: () => `t${++token}`, fetch });
    const items = await take(client.watchEvents({ lastEventId: '7', reconnectDelayMs: 1, onState: (s) => states.push(s) }), 3);
    expect(items.map((i) => [i.type, i.id])).toEqual([
      ['reset', undefined],
      ['document.status-changed', '20'],
      ['document.status-changed', '21'],
    ]);
    expect(calls.map((c) => [c.headers.get('last-event-id'), c.headers.get('authorization')])).toEqual([
      ['7', 'Bearer t1'],
      ['20', 'Bearer t2'],
      ['20', 'Bearer t3'],
    ]);
    expect(states.filter((s) => s.state === 'open')).toHaveLength(3);
  });

  it('retries 503 and 429 (honouring Retry-After up to its bound), and gives up on 401', async () => {
    const problem = (status: number, code: string, headers: Record<string, string> = {}) =>
      new Response(JSON.stringify({ type: `https://direktvermittlung.de/problems/${code}`, title: code, status }), {
        status,
        headers: { 'content-type': 'application/problem+json', ...headers },
      });
    const { fetch, calls } = stub([
      () => problem(503, 'upstream-unavailable'),
      () => problem(429, 'too-many-streams', { 'retry-after': '0' }),
      () => sse([event(1)], { open: true }),
    ]);
    const client = new DvdClient({ baseUrl: BASE, token: 'tok', fetch });
    expect((await take(client.watchEvents({ reconnectDelayMs: 1 }), 1)).map((i) => i.id)).toEqual(['1']);
    expect(calls).toHaveLength(3);

    const refused = stub([() => problem(401, 'unauthorized')]);
    const it = new DvdClient({ baseUrl: BASE, token: 'old', fetch: refused.fetch }).watchEvents({ reconnectDelayMs: 1 });
    const err = await it.next().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DvdProblemError);
    expect((err as DvdProblemError).status).toBe(401);
    expect(refused.calls).toHaveLength(1);
  });

  it('ends without an error when aborted, and lets go of the connection', async () => {
    let cancelled = false;
    const { fetch } = stub([() => sse([event(1)], { open: true, onCancel: () => (cancelled = true) })]);
    const abort = new AbortController();
    const seen: DvdStreamItem[] = [];
    for await (const item of new DvdClient({ baseUrl: BASE, token: 'tok', fetch }).watchEvents({ signal: abort.signal })) {
      seen.push(item);
      abort.abort();
    }
    expect(seen.map((i) => i.id)).toEqual(['1']);
    expect(cancelled).toBe(true);
  });

  it('gives browsers a ticket and the EventSource URL for it', async () => {
    const { fetch, calls } = stub([
      () => new Response(JSON.stringify({ ticket: 'T'.repeat(43), expiresAt: '2026-01-31T09:30:30Z' }), { status: 200 }),
    ]);
    const client = new DvdClient({ baseUrl: BASE, token: 'tok', fetch });
    const { ticket } = await client.createEventTicket();
    expect(calls[0].url.pathname).toBe('/api/v1/events/tickets');
    expect(calls[0].headers.get('authorization')).toBe('Bearer tok');
    const url = new URL(client.eventSourceUrl(ticket, { unitId: 'poststelle', lastEventId: '42' }));
    expect(url.pathname).toBe('/api/v1/events');
    expect(Object.fromEntries(url.searchParams)).toEqual({ ticket, unitId: 'poststelle', lastEventId: '42' });
  });
});
