import { randomUUID } from 'node:crypto';
import type { StreamControl } from '@dvd/contracts';
import type { Listener } from '../stream/stream-entry';
import type { SseOutput } from './sse-output';

export type CloseReason = 'client-gone' | 'slow-client' | 'token-expired' | 'draining' | 'evicted';

export interface SessionOptions {
  /** Unsent bytes beyond which the client is disconnected. */
  maxBufferedBytes: number;
  /** How long the browser's EventSource waits before it reconnects (the SSE `retry` field). */
  retryMs: number;
  onClose: (session: SseSession, reason: CloseReason) => void;
}

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-store, no-transform',
  // nginx and others: never buffer this response
  'X-Accel-Buffering': 'no',
} as const;

/** The SSE frame of a control event (no id: it does not move the client's position). */
export function controlFrame(control: StreamControl): string {
  return `event: ${control.type}\ndata: ${JSON.stringify(control)}\n\n`;
}

/**
 * One open stream. Writes frames as they come and never queues more than
 * `maxBufferedBytes` for a client that does not read: it is disconnected instead (it
 * reconnects and resumes with its Last-Event-ID). Ends at the expiry of the token it was
 * opened with.
 */
export class SseSession {
  readonly id = randomUUID();
  readonly openedAt = Date.now();
  /** The offset of the last event (or heartbeat id) written: the client's position. */
  lastId = -1;
  private closed = false;
  private expiry?: NodeJS.Timeout;

  constructor(
    readonly listener: Listener,
    /** The key under which the stream counts against its user's limit. */
    readonly userKey: string,
    private readonly out: SseOutput,
    /** When the token expires (ms since the epoch). */
    readonly expiresAt: number,
    private readonly o: SessionOptions,
  ) {}

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Sends the response head and the reconnect delay; arms the expiry. */
  begin(): void {
    this.out.begin(SSE_HEADERS);
    this.out.onClose(() => this.close('client-gone'));
    this.write(`retry: ${this.o.retryMs}\n\n`);
    const left = this.expiresAt - Date.now();
    // setTimeout holds at most 2^31-1 ms (24.8 days); no token lives that long
    this.expiry = setTimeout(() => this.expire(), Math.max(0, Math.min(left, 2 ** 31 - 1)));
    this.expiry.unref();
  }

  /** Writes an event (or any frame); `offset` moves the client's position. */
  send(frame: string, offset?: number): void {
    if (this.closed) return;
    if (offset !== undefined) {
      if (offset <= this.lastId) return; // already sent (replay and live can meet)
      this.lastId = offset;
    }
    this.write(frame);
  }

  /**
   * Keeps the connection alive through proxies. When the stream moved on past the client's
   * position with events it may not see, the heartbeat carries that offset as a bare `id:` (no
   * event is dispatched), so that a reconnect resumes from there and not from an old id that
   * may have left the replay window.
   */
  heartbeat(streamOffset: number): void {
    if (streamOffset > this.lastId) this.send(`id: ${streamOffset}\n\n`, streamOffset);
    else this.send(':\n\n');
  }

  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.expiry);
    if (reason === 'slow-client')
      this.out.destroy(); // its buffer is not flushed first
    else this.out.end();
    this.o.onClose(this, reason);
  }

  private expire() {
    this.send(controlFrame({ type: 'expired', reason: 'token-expired' }));
    this.close('token-expired');
  }

  private write(frame: string) {
    if (this.closed) return;
    this.out.write(frame);
    if (this.out.writableLength > this.o.maxBufferedBytes) this.close('slow-client');
  }
}
