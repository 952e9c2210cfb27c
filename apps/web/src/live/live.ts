/**
 * One event stream per logged-in session (GET /events through the app's own origin, read
 * with fetch so the token travels in the Authorization header, never in a URL; the SDK's
 * watchEvents reconnects with backoff and resumes with Last-Event-ID). Started after login,
 * stopped at logout; events are handed to the views that subscribed.
 */
import type { DvdClient, DvdStreamItem } from '@dvd/sdk';

export type LiveStatus = 'off' | 'connecting' | 'live' | 'reconnecting';
export type LiveListener = (item: DvdStreamItem) => void;

/** After the platform refused the stream for good (e.g. 401 while the session is refreshed): try again after this. */
const REFUSED_RETRY_MS = 30_000;

export class LiveEvents {
  private readonly listeners = new Set<LiveListener>();
  private readonly statusListeners = new Set<() => void>();
  private status: LiveStatus = 'off';
  private running: AbortController | null = null;
  private lastEventId: string | undefined;

  constructor(private readonly client: Pick<DvdClient, 'watchEvents'>) {}

  start(): void {
    if (this.running) return;
    const controller = new AbortController();
    this.running = controller;
    this.lastEventId = undefined;
    this.setStatus('connecting');
    void this.run(controller.signal);
  }

  stop(): void {
    this.running?.abort();
    this.running = null;
    this.setStatus('off');
  }

  subscribe = (listener: LiveListener): (() => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };

  onStatus = (listener: () => void): (() => void) => {
    this.statusListeners.add(listener);
    return () => void this.statusListeners.delete(listener);
  };

  getStatus = (): LiveStatus => this.status;

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const stream = this.client.watchEvents({
          signal,
          lastEventId: this.lastEventId,
          onState: (s) => !signal.aborted && this.setStatus(s.state === 'open' ? 'live' : 'reconnecting'),
        });
        for await (const item of stream) {
          if (item.id) this.lastEventId = item.id;
          for (const listener of [...this.listeners]) {
            try {
              listener(item);
            } catch {
              // one view's failure does not stop the others
            }
          }
        }
      } catch {
        // refused for good (400/401/404): wait, then try again (the session may have been refreshed)
      }
      if (signal.aborted) return;
      this.setStatus('reconnecting');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, REFUSED_RETRY_MS);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  }

  private setStatus(status: LiveStatus): void {
    if (status === this.status) return;
    this.status = status;
    for (const l of [...this.statusListeners]) l();
  }
}
