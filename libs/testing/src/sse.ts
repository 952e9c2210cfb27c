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
