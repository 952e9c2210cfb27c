import http2 from 'node:http2';
import { Readable } from 'node:stream';
import { createParser } from 'eventsource-parser';
import { pollUntil } from './infra';

export interface ReceivedEvent {
  id: string | undefined;
  event: string | undefined;
  data: Record<string, unknown>;
}

/**
 * One Server-Sent Events stream as a client reads it (fetch and eventsource-parser): every
 * event in order, the last id (also of bare `id:` heartbeats), the comments, and when it ended.
 */
export class EventStreamClient {
  readonly events: ReceivedEvent[] = [];
  /** The id the client would resume from (`Last-Event-ID`). */
  lastId: string | undefined;
  comments = 0;
  endedAt: number | null = null;
  readonly ended: Promise<void>;

  constructor(
    readonly status: number,
    readonly headers: Headers,
    body: ReadableStream<Uint8Array>,
    private readonly abort: AbortController,
  ) {
    const parser = createParser({
      onEvent: (e) => this.events.push({ id: e.id, event: e.event, data: JSON.parse(e.data) as Record<string, unknown> }),
      onId: (id) => (this.lastId = id),
      onComment: () => this.comments++,
    });
    this.ended = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
      } catch {
        // aborted by close(), or the connection was dropped
      }
      this.endedAt = Date.now();
    })();
  }

  /** The events of a type (or all but the control events `reset` and `expired`). */
  of(type?: string): ReceivedEvent[] {
    return this.events.filter((e) => (type ? e.event === type : e.event !== 'reset' && e.event !== 'expired'));
  }

  /** Waits until an event matches; returns it. */
  waitFor(match: (e: ReceivedEvent) => boolean, what: string, timeoutMs = 20_000): Promise<ReceivedEvent> {
    return pollUntil(async () => this.events.find(match), { what, timeoutMs, intervalMs: 20 });
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.ended;
  }
}

export type OpenedStream =
  { ok: true; status: 200; stream: EventStreamClient } | { ok: false; status: number; problem: Record<string, unknown>; headers: Headers };

/** Opens a stream; a refusal comes back with its problem body. */
export async function openEventStream(url: string, headers: Record<string, string> = {}): Promise<OpenedStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  if (res.status !== 200 || !res.body) {
    const text = await res.text();
    let problem: Record<string, unknown> = {};
    try {
      problem = JSON.parse(text) as Record<string, unknown>;
    } catch {
      problem = { text };
    }
    return { ok: false, status: res.status, problem, headers: res.headers };
  }
  return { ok: true, status: 200, stream: new EventStreamClient(res.status, res.headers, res.body, abort) };
}

/** Opens a stream that must open. */
export async function mustOpenEventStream(url: string, headers: Record<string, string> = {}): Promise<EventStreamClient> {
  const opened = await openEventStream(url, headers);
  if (!opened.ok) throw new Error(`the stream was refused: ${opened.status} ${JSON.stringify(opened.problem)}`);
  return opened.stream;
}

/**
 * Opens a stream over cleartext HTTP/2, as the gateway does on realtime's stream port (ADR
 * 0021): one connection per stream here, closed with it. `readBody: false` opens it and never
 * reads (a client too slow to keep up; its flow-control window closes).
 */
export async function openEventStreamH2(
  url: string,
  headers: Record<string, string> = {},
  o: { path?: string; method?: string; readBody?: boolean } = {},
): Promise<OpenedStream & { reset: Promise<number> }> {
  const target = new URL(url);
  const session = http2.connect(target.origin);
  session.on('error', () => undefined);
  const req = session.request(
    {
      ':method': o.method ?? 'GET',
      ':path': o.path ?? `${target.pathname}${target.search}`,
      accept: 'text/event-stream',
      ...headers,
    },
    { endStream: true },
  );
  req.on('error', () => undefined);
  const reset = new Promise<number>((resolve) => req.once('close', () => resolve(req.rstCode ?? 0)));
  void reset.then(() => session.close());
  const head = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    req.once('response', resolve);
    req.once('close', () => reject(new Error(`the HTTP/2 stream closed before an answer (code ${req.rstCode})`)));
  });
  const status = Number(head[':status']);
  const webHeaders = new Headers();
  for (const [k, v] of Object.entries(head)) if (!k.startsWith(':') && typeof v === 'string') webHeaders.set(k, v);
  if (status !== 200) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return {
      ok: false,
      status,
      problem: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>,
      headers: webHeaders,
      reset,
    };
  }
  const abort = new AbortController();
  abort.signal.addEventListener('abort', () => req.close(http2.constants.NGHTTP2_CANCEL));
  if (o.readBody === false) req.pause();
  const body =
    o.readBody === false
      ? new ReadableStream<Uint8Array>({ start: (c) => void reset.then(() => c.close()) })
      : (Readable.toWeb(req) as ReadableStream<Uint8Array>);
  return { ok: true, status: 200, stream: new EventStreamClient(status, webHeaders, body, abort), reset };
}
