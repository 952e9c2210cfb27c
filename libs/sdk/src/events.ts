import { backOff } from 'exponential-backoff';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { StreamControl, StreamEvent } from '@dvd/contracts';
import { sleep } from './bytes';
import { DvdError, DvdNetworkError, DvdProblemError } from './errors';
import { isRetryable, type Transport } from './http';

/** An event of the stream, with its id (its position: resume after it with `lastEventId`). */
export type DvdStreamEvent = StreamEvent & { id: string };

/**
 * What `watchEvents` yields: events, and `reset` when the platform could not resume where
 * the client left off (more than 5 minutes ago): reload what you show.
 */
export type DvdStreamItem = DvdStreamEvent | { type: 'reset'; id?: string };

export type WatchState =
  | { state: 'open' }
  /** The stream ended (`attempt` 0) or attempt `attempt` to open it failed; the next one follows after a backoff. */
  | { state: 'reconnecting'; attempt: number; error?: unknown };

export interface WatchOptions {
  /** Staff: only the events of this unit of their authority. */
  unitId?: string;
  /** Resume after this event id (e.g. one saved from an earlier run). */
  lastEventId?: string;
  /** Ends the iteration (without an error). */
  signal?: AbortSignal;
  /** Failed attempts to (re)open the stream in a row before giving up (default: no limit). */
  maxAttempts?: number;
  /** Base of the exponential backoff between attempts (default: the server's `retry`, else 1 s; full jitter, at most 30 s). */
  reconnectDelayMs?: number;
  /** Largest single event accepted (default 64 KiB: events are ids and a status). */
  maxEventBytes?: number;
  /** Told when the stream opens and before each reconnect. */
  onState?: (state: WatchState) => void;
}

const ended = Symbol('ended');

/**
 * The caller's event stream (`GET /events`, Server-Sent Events) as an async iterator, read
 * with `fetch` so that the token travels in the `Authorization` header (never in a URL).
 * Reconnects with exponential backoff and `Last-Event-ID` when the stream ends or fails
 * (429, 503, network), at once with a fresh token when the old one expired (give a token
 * function for that); ends with a DvdProblemError when the platform refuses it for good
 * (400, 401, 404). Breaking out of the loop or aborting `signal` closes the connection.
 */
export async function* watchEvents(http: Transport, o: WatchOptions = {}): AsyncGenerator<DvdStreamItem, void, undefined> {
  let lastEventId = o.lastEventId;
  let retryMs = o.reconnectDelayMs;
  const maxEventBytes = o.maxEventBytes ?? 64 * 1024;
  let reconnectAfterEnd = false;
  const stop = new AbortController();
  const onAbort = () => stop.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    while (!stop.signal.aborted) {
      let res: Response;
      try {
        res = await open(
          http,
          o,
          () => lastEventId,
          stop.signal,
          reconnectAfterEnd,
          () => retryMs,
        );
      } catch (err) {
        if (stop.signal.aborted) return;
        throw err;
      }
      o.onState?.({ state: 'open' });
      const queue: Array<DvdStreamItem | typeof ended> = [];
      const parser = createParser({
        maxBufferSize: maxEventBytes,
        onId: (id) => (lastEventId = id),
        onRetry: (ms) => (retryMs ??= Math.min(Math.max(ms, 100), 60_000)),
        onEvent: (e) => {
          const item = toItem(e);
          if (item === 'expired') queue.push(ended);
          else if (item) queue.push(item);
        },
      });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      const cancel = () => void reader.cancel().catch(() => undefined);
      stop.signal.addEventListener('abort', cancel, { once: true });
      let expired = false;
      try {
        for (;;) {
          let chunk: Awaited<ReturnType<typeof reader.read>>;
          try {
            chunk = await reader.read();
          } catch {
            break; // the connection dropped: reconnect
          }
          if (chunk.done) break;
          try {
            parser.feed(decoder.decode(chunk.value, { stream: true }));
          } catch (err) {
            throw new DvdError(`GET /events: an event larger than ${maxEventBytes} characters`, { cause: err });
          }
          while (queue.length) {
            const item = queue.shift()!;
            if (item === ended) {
              expired = true;
              continue;
            }
            yield item;
          }
          if (expired) break;
        }
      } finally {
        stop.signal.removeEventListener('abort', cancel);
        cancel();
      }
      // the token expired: at once, with a fresh one; otherwise after a backoff
      reconnectAfterEnd = !expired;
      if (!stop.signal.aborted) o.onState?.({ state: 'reconnecting', attempt: 0 });
    }
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    stop.abort();
  }
}

/** Opens the stream, retrying what may succeed later (backoff with full jitter). */
async function open(
  http: Transport,
  o: WatchOptions,
  lastEventId: () => string | undefined,
  signal: AbortSignal,
  delayFirst: boolean,
  retryMs: () => number | undefined,
): Promise<Response> {
  let attempt = 0;
  return backOff(
    async () => {
      attempt++;
      const res = await openEventStream(http, { unitId: o.unitId, lastEventId: lastEventId(), signal }, true);
      if (!res.body) throw new DvdNetworkError('GET /events: no stream');
      return res;
    },
    {
      numOfAttempts: o.maxAttempts ?? Number.MAX_SAFE_INTEGER,
      startingDelay: retryMs() ?? 1_000,
      timeMultiple: 2,
      maxDelay: 30_000,
      jitter: 'full',
      delayFirstAttempt: delayFirst,
      retry: async (err) => {
        if (signal.aborted || !isRetryable(err, true)) return false;
        o.onState?.({ state: 'reconnecting', attempt, error: err });
        const after = err instanceof DvdProblemError ? err.retryAfterSeconds : undefined;
        if (after !== undefined) await sleep(Math.min(after, 60) * 1000, signal).catch(() => undefined);
        return !signal.aborted;
      },
    },
  );
}

/**
 * One `GET /events`: the open stream's response (its body is the Server-Sent Events), or a
 * DvdProblemError / DvdNetworkError. `once`: no retries (the caller has its own policy).
 */
export async function openEventStream(
  http: Transport,
  o: { unitId?: string; lastEventId?: string; signal?: AbortSignal },
  once = false,
): Promise<Response> {
  const { response } = await http.request('GET', '/events', {
    query: { unitId: o.unitId },
    headers: { accept: 'text/event-stream', ...(o.lastEventId !== undefined ? { 'last-event-id': o.lastEventId } : {}) },
    signal: o.signal,
    noRetry: once,
  });
  return response;
}

/** An SSE message as the SDK yields it; `expired` ends the connection; anything unknown is skipped. */
function toItem(e: EventSourceMessage): DvdStreamItem | 'expired' | null {
  let data: unknown;
  try {
    data = JSON.parse(e.data);
  } catch {
    return null;
  }
  if (!data || typeof data !== 'object') return null;
  const type = (data as { type?: unknown }).type;
  if (e.event === 'expired' || type === 'expired') return 'expired';
  if (e.event === 'reset' || type === 'reset') return { type: 'reset', ...(e.id ? { id: e.id } : {}) };
  if (typeof type !== 'string' || e.id === undefined) return null;
  return { ...(data as StreamEvent), id: e.id };
}

/** The control events' data, for those who read the stream themselves. */
export type { StreamControl };
