import { Logger } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { ApiError } from '@dvd/platform';
import type { LogMessage } from '../stream/event-log';
import { ReplayBuffer } from '../stream/replay-buffer';
import { Listener, StreamEntry, mayReceive, toStreamEntry } from '../stream/stream-entry';
import type { SseOutput } from './sse-output';
import { CloseReason, SseSession, controlFrame } from './sse-session';
import { StreamLimiter } from './stream-limiter';

export interface HubOptions {
  windowMs: number;
  maxEvents: number;
  heartbeatMs: number;
  maxStreams: number;
  maxBufferedBytes: number;
}

export interface OpenRequest {
  listener: Listener;
  out: SseOutput;
  /** The client's Last-Event-ID, or null for a fresh start. */
  lastEventId: number | null;
  /** Token expiry, ms since the epoch. */
  expiresAt: number;
}

const add = <K>(index: Map<K, Set<SseSession>>, key: K, s: SseSession) => {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(s);
};
const remove = <K>(index: Map<K, Set<SseSession>>, key: K, s: SseSession) => {
  const set = index.get(key);
  set?.delete(s);
  if (set?.size === 0) index.delete(key);
};

/**
 * The streams one replica holds, indexed by citizen and by authority, and the events of
 * the replay window. Every event read from the broker's stream goes to the sessions that
 * may see it (at once, in stream order: one frame string shared by all of them).
 */
export class SessionHub {
  private readonly logger = new Logger(SessionHub.name);
  readonly buffer: ReplayBuffer;
  private readonly sessions = new Set<SseSession>();
  private readonly byCitizen = new Map<string, Set<SseSession>>();
  private readonly byAuthority = new Map<string, Set<SseSession>>();
  private readonly timer: NodeJS.Timeout;
  private readonly metrics: {
    open: Gauge;
    buffered: Gauge;
    read: Counter;
    sent: Counter;
    closed: Counter<'reason'>;
  };

  constructor(
    private readonly o: HubOptions,
    private readonly limiter: StreamLimiter,
    registry: Registry,
  ) {
    this.buffer = new ReplayBuffer(o.windowMs, o.maxEvents);
    this.metrics = {
      open: new Gauge({ name: 'realtime_streams_open', help: 'Event streams this replica holds', registers: [registry] }),
      buffered: new Gauge({ name: 'realtime_replay_events', help: 'Events kept for resuming (Last-Event-ID)', registers: [registry] }),
      read: new Counter({ name: 'realtime_events_read_total', help: 'Events read from the broker stream', registers: [registry] }),
      sent: new Counter({ name: 'realtime_events_sent_total', help: 'Events written to streams', registers: [registry] }),
      closed: new Counter({
        name: 'realtime_streams_closed_total',
        help: 'Streams ended, by reason',
        labelNames: ['reason'],
        registers: [registry],
      }),
    };
    this.timer = setInterval(() => this.sweep(), o.heartbeatMs);
    this.timer.unref();
  }

  get openStreams(): number {
    return this.sessions.size;
  }

  /** Every message of the broker stream, in order. */
  accept(m: LogMessage): void {
    this.buffer.observe(m.offset);
    if (!m.envelope) return;
    this.metrics.read.inc();
    const entry = toStreamEntry(m.envelope, m.offset, m.publishedAt);
    if (!entry) return;
    this.buffer.add(entry);
    this.deliver(entry);
  }

  private deliver(entry: StreamEntry) {
    const { citizenId, authorityId } = entry.audience;
    let sent = 0;
    for (const s of (citizenId !== null && this.byCitizen.get(citizenId)) || [])
      if (mayReceive(s.listener, entry.audience)) {
        s.send(entry.frame, entry.offset);
        sent++;
      }
    for (const s of (authorityId !== null && this.byAuthority.get(authorityId)) || [])
      if (mayReceive(s.listener, entry.audience)) {
        s.send(entry.frame, entry.offset);
        sent++;
      }
    if (sent) this.metrics.sent.inc(sent);
  }

  /**
   * Opens a stream: takes a lease on the user's stream count, answers the head, replays what
   * the client missed (or tells it to reset), and from then on it receives live events. The
   * replay and the registration happen in one turn of the event loop, so no event falls between.
   */
  async open(r: OpenRequest, userKey: string): Promise<SseSession | null> {
    if (this.sessions.size >= this.o.maxStreams) throw ApiError.unavailable('This replica holds as many streams as it may; retry');
    const session = new SseSession(r.listener, userKey, r.out, r.expiresAt, {
      maxBufferedBytes: this.o.maxBufferedBytes,
      retryMs: 3_000,
      onClose: (s, reason) => this.closed(s, reason),
    });
    const lease = await this.limiter.acquire(userKey, session.id);
    if (!lease.ok)
      throw new ApiError(
        429,
        'too-many-streams',
        'Too Many Requests',
        'You have as many event streams open as allowed; close one or retry later',
        undefined,
        { 'Retry-After': String(Math.ceil(lease.retryAfterMs / 1000)) },
      );
    if (r.out.gone) {
      // the client went away meanwhile: nobody to answer
      void this.limiter.release(userKey, session.id);
      return null;
    }
    session.begin();
    const now = Date.now();
    if (r.lastEventId !== null) {
      const decision = this.buffer.resume(r.lastEventId, now);
      if (decision.kind === 'reset') session.send(controlFrame({ type: 'reset', reason: 'last-event-id-outside-window' }));
      else for (const e of decision.entries) if (mayReceive(r.listener, e.audience)) session.send(e.frame, e.offset);
    }
    // the client's position from now on: what this replica read last
    if (this.buffer.lastOffset >= 0 && session.isOpen) session.heartbeat(this.buffer.lastOffset);
    if (!session.isOpen) return null; // gone or too slow already
    this.sessions.add(session);
    if (r.listener.role === 'citizen') add(this.byCitizen, r.listener.userId, session);
    else if (r.listener.authorityId !== null) add(this.byAuthority, r.listener.authorityId, session);
    this.metrics.open.set(this.sessions.size);
    return session;
  }

  private closed(s: SseSession, reason: CloseReason) {
    const known = this.sessions.delete(s);
    if (s.listener.role === 'citizen') remove(this.byCitizen, s.listener.userId, s);
    else if (s.listener.authorityId !== null) remove(this.byAuthority, s.listener.authorityId, s);
    void this.limiter.release(s.userKey, s.id);
    if (!known) return;
    this.metrics.open.set(this.sessions.size);
    this.metrics.closed.inc({ reason });
    // the stream's access log line (the per-request logger is off for it): ids, why and how long, no more
    this.logger.log(
      { streamId: s.id, userId: s.listener.userId, reason, durationMs: Date.now() - s.openedAt },
      reason === 'slow-client' ? 'stream dropped: the client does not read' : 'stream ended',
    );
  }

  /** Heartbeats, lease refresh and the window's eviction, every heartbeat interval. */
  private sweep() {
    this.buffer.evict(Date.now());
    this.metrics.buffered.set(this.buffer.size);
    const offset = this.buffer.lastOffset;
    const leases: Array<{ userKey: string; streamId: string }> = [];
    for (const s of this.sessions) {
      s.heartbeat(offset);
      if (s.isOpen) leases.push({ userKey: s.userKey, streamId: s.id });
    }
    void this.limiter.refresh(leases);
  }

  /** Ends every stream (a draining replica): the clients reconnect to another one and resume. */
  closeAll(reason: CloseReason): void {
    for (const s of [...this.sessions]) s.close(reason);
  }

  stop(): void {
    clearInterval(this.timer);
    this.closeAll('draining');
  }
}
