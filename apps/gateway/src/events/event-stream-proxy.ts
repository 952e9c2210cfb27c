import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, connect, constants } from 'node:http2';
import type { Logger } from 'pino';
import { activeTraceparent, sendProblem, traceHeaders } from '@dvd/platform';
import { upstreamFailure } from '../proxy/upstream-failure';

/** Response headers of realtime passed on to the client; everything else stays behind. */
const PASSED_HEADERS = ['content-type', 'cache-control', 'retry-after', 'x-request-id'];
/** A connection with no stream for this long is closed (heartbeats keep a used one busy). */
const IDLE_CONNECTION_MS = 60_000;
/** Connection-level flow-control window: a round of events for thousands of streams arrives at once. */
const CONNECTION_WINDOW = 8 * 1024 * 1024;
/** Errors of HTTP/2 that mean realtime went away or refused the stream before answering: retry elsewhere. */
const GONE = new Set(['ERR_HTTP2_STREAM_CANCEL', 'ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_SESSION_ERROR']);

interface Connection {
  session: ClientHttp2Session;
  streams: number;
  /** False once realtime sent GOAWAY (it drains) or the connection failed: no new streams on it. */
  usable: boolean;
}

interface OpenStream {
  upstream: ClientHttp2Stream;
  res: ServerResponse;
}

/**
 * The gateway's leg of `GET /api/v1/events` (ADR 0021): streamed, never buffered, without a
 * timeout, over HTTP/2 to realtime's stream port. Streams share connections, up to
 * `perConnection` each; beyond that another connection is opened (behind a Service, likely
 * to another replica), so 10,000 streams cost 10,000 HTTP/2 streams and a few dozen
 * connections instead of 10,000 connections with a parser, a request and a response each.
 *
 * Every chunk realtime writes is written on at once (`pipe`); if the client does not read,
 * the HTTP/2 stream's flow-control window closes, realtime's side fills up and realtime drops
 * the stream. When the client goes away the upstream stream is reset at once, and when
 * realtime ends, resets or loses the stream, so does the client's response.
 */
export class EventStreamProxy {
  private readonly connections = new Set<Connection>();
  private readonly open = new Set<OpenStream>();

  constructor(
    private readonly target: string,
    private readonly perConnection: number,
    private readonly log: Logger,
  ) {}

  get openStreams(): number {
    return this.open.size;
  }

  forward(req: IncomingMessage, res: ServerResponse, path: string, headers: Record<string, string>, requestId: string): void {
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    const c = this.connection();
    let upstream: ClientHttp2Stream;
    try {
      upstream = c.session.request(
        { ':method': 'GET', ':path': path, ...headers, ...traceHeaders(activeTraceparent()) },
        { endStream: true },
      );
    } catch (err) {
      // the session closed between choosing and asking (ERR_HTTP2_INVALID_SESSION, …GOAWAY_SESSION)
      c.usable = false;
      return this.failed(err as NodeJS.ErrnoException, res, requestId);
    }
    c.streams++;
    const entry: OpenStream = { upstream, res };
    this.open.add(entry);
    const started = Date.now();
    // the client went away (or the stream ended): let go of realtime at once
    res.once('close', () => {
      this.open.delete(entry);
      if (!upstream.destroyed) upstream.close(constants.NGHTTP2_CANCEL);
      // the stream's access log line (the per-request logger is off for it); the path without its query (a ticket)
      this.log.info(
        { requestId, path: '/api/v1/events', statusCode: res.statusCode, durationMs: Date.now() - started },
        'event stream ended',
      );
    });
    upstream.once('response', (h: IncomingHttpHeaders) => {
      const status = Number(h[':status']) || 502;
      const out: OutgoingHttpHeaders = {};
      for (const name of PASSED_HEADERS) if (h[name] !== undefined) out[name] = h[name];
      if (status === 200) out['x-accel-buffering'] = 'no';
      res.writeHead(status, out);
      res.flushHeaders();
      upstream.pipe(res);
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (!res.headersSent) this.failed(err, res, requestId);
    });
    upstream.once('close', () => {
      c.streams--;
      this.open.delete(entry);
      // realtime reset the stream (a slow client, a draining replica) or the connection broke: the client's ends too.
      // A stream realtime ended has ended the response through `pipe` already.
      // (A client that went away first needs no answer.)
      if (!res.writableEnded && !res.destroyed) {
        if (res.headersSent) res.destroy();
        else this.failed(Object.assign(new Error('stream closed before an answer'), { code: 'ERR_HTTP2_STREAM_CANCEL' }), res, requestId);
      }
    });
  }

  /** A draining gateway ends its streams at once: the clients reconnect to another replica and resume. */
  closeAll(): void {
    for (const { upstream, res } of [...this.open]) {
      upstream.close(constants.NGHTTP2_CANCEL);
      res.end();
    }
    this.open.clear();
    for (const c of [...this.connections]) {
      c.usable = false;
      c.session.close();
    }
  }

  /** The first connection with room, or a new one. */
  private connection(): Connection {
    for (const c of this.connections) {
      const peerLimit = c.session.remoteSettings?.maxConcurrentStreams ?? this.perConnection;
      if (c.usable && !c.session.closed && !c.session.destroyed && c.streams < Math.min(this.perConnection, peerLimit)) return c;
    }
    const session = connect(this.target, {
      // the default (10 MB) counts every open stream's queued frames; a connection carries hundreds
      maxSessionMemory: 256,
      settings: { enablePush: false },
    });
    const c: Connection = { session, streams: 0, usable: true };
    this.connections.add(c);
    session.once('connect', () => session.setLocalWindowSize(CONNECTION_WINDOW));
    session.on('error', (err: NodeJS.ErrnoException) => {
      c.usable = false;
      this.log.warn({ upstream: 'realtime', code: err.code }, 'event stream connection failed');
    });
    session.once('goaway', () => {
      c.usable = false;
    });
    session.once('close', () => {
      c.usable = false;
      this.connections.delete(c);
    });
    session.setTimeout(IDLE_CONNECTION_MS, () => {
      if (c.streams === 0) session.close();
    });
    // the clients' connections keep the process alive, not this one
    session.unref();
    return c;
  }

  private failed(err: NodeJS.ErrnoException, res: ServerResponse, requestId: string) {
    const cause = (err.cause as NodeJS.ErrnoException | undefined)?.code;
    const code = cause ?? (err.code && GONE.has(err.code) ? 'ECONNRESET' : err.code);
    const problem = upstreamFailure(code, false);
    this.log.warn({ requestId, upstream: 'realtime', code: err.code, status: problem.status }, 'upstream failed');
    sendProblem(res, problem, '/api/v1/events', requestId);
  }
}
