import { type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream, createServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import type { Logger } from 'pino';
import { Gauge, Registry } from 'prom-client';
import { ApiError, EMPTY_BODY_DIGEST, IdentityVerifier, genericError, requestIdFrom, toProblem } from '@dvd/platform';
import { SessionHub } from '../sessions/session-hub';
import { Http2Output } from '../sessions/sse-output';
import { STREAM_ROLES, StreamAdmission } from './stream-admission';

export interface EventStreamServerOptions {
  port: number;
  host: string;
  /** Streams one gateway connection may carry at once (the gateway opens another beyond). */
  maxStreamsPerConnection: number;
}

const EVENTS_PATH = '/api/v1/events';
/** How long a stopping replica lets a gateway close its side of the ended streams. */
const CLOSE_GRACE_MS = 1_000;
/** A request path of at most this many characters (the contract's query is two short fields). */
const MAX_PATH = 2048;

/**
 * The stream port (ADR 0021): `GET /api/v1/events` over cleartext HTTP/2, for the gateway only.
 * A gateway carries many streams over each of its connections here, so a stream costs one
 * HTTP/2 stream on each side instead of a TCP connection with an HTTP/1.1 parser, a request and
 * a response object (and no framework objects here: Express and Nest never see these). The
 * checks are those of the HTTP/1.1 route: the gateway's identity signature over method, path
 * and an empty body, once (replay), a role that may stream, then StreamAdmission.
 */
export class EventStreamServer {
  private readonly server: Http2Server;
  private readonly sessions = new Set<Http2Session>();
  /** The connections under the sessions: the server has closed only when they have. */
  private readonly sockets = new Set<Socket>();
  private readonly connections: Gauge;

  constructor(
    private readonly o: EventStreamServerOptions,
    private readonly verifier: IdentityVerifier,
    private readonly admission: StreamAdmission,
    private readonly hub: SessionHub,
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.connections = new Gauge({
      name: 'realtime_stream_connections',
      help: 'HTTP/2 connections from gateways on the stream port (each carries many streams)',
      registers: [registry],
    });
    this.server = createServer({
      settings: { maxConcurrentStreams: o.maxStreamsPerConnection, enablePush: false },
      // the default (10 MB) counts every open stream's queued frames; a connection carries hundreds
      maxSessionMemory: 256,
      maxHeaderListPairs: 64,
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('session', (session: Http2Session) => {
      this.sessions.add(session);
      this.connections.set(this.sessions.size);
      session.once('close', () => {
        this.sessions.delete(session);
        this.connections.set(this.sessions.size);
      });
      // errors of a connection end its streams (each closes its session); nothing to crash for
      session.on('error', (err: NodeJS.ErrnoException) => this.log.debug({ code: err.code }, 'gateway connection failed'));
    });
    this.server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void this.handle(stream, headers));
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.port, this.o.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /**
   * Takes no new connections and asks the gateways to go elsewhere (GOAWAY). The hub has
   * ended the streams; a connection whose peer has not closed its side of one within
   * CLOSE_GRACE_MS is cut, so that a stopping replica never waits on a client.
   */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of this.sessions) session.close();
    const cut = setTimeout(() => {
      for (const session of this.sessions) session.destroy();
      for (const socket of this.sockets) socket.destroy();
    }, CLOSE_GRACE_MS);
    cut.unref();
    await closed;
    clearTimeout(cut);
  }

  private async handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    // a reset by the gateway (its client went away) is no failure of ours
    stream.on('error', () => undefined);
    const path = headers[':path'] ?? '';
    let requestId = requestIdFrom(headers['x-request-id']);
    try {
      const q = path.indexOf('?');
      if (path.length > MAX_PATH || headers[':method'] !== 'GET' || (q < 0 ? path : path.slice(0, q)) !== EVENTS_PATH)
        throw ApiError.notFound();
      const v = this.verifier.verify(headers, 'GET', path);
      if (typeof v === 'string' || v.body !== EMPTY_BODY_DIGEST || !stream.endAfterHeaders)
        throw ApiError.unauthorized('Missing or invalid identity signature');
      if (!(await this.verifier.replay.firstUse(v.kid, v.nonce))) throw ApiError.unauthorized('Missing or invalid identity signature');
      const who = v.identity;
      requestId = who.requestId;
      if (!STREAM_ROLES.includes(who.role)) throw ApiError.notFound();
      const a = await this.admission.admit(who, parseQuery(q < 0 ? '' : path.slice(q + 1)), headers['last-event-id']);
      await this.hub.open(
        { listener: a.listener, out: new Http2Output(stream), lastEventId: a.lastEventId, expiresAt: a.expiresAt },
        a.userKey,
      );
    } catch (err) {
      const problem = err instanceof ApiError ? err : genericError(500);
      if (!(err instanceof ApiError)) this.log.error({ err, requestId }, 'event stream failed');
      if (stream.headersSent || stream.destroyed) return;
      const body = JSON.stringify(toProblem(problem, EVENTS_PATH, requestId));
      stream.respond({
        ...problem.headers,
        ':status': problem.status,
        'content-type': 'application/problem+json',
        'x-request-id': requestId,
      });
      stream.end(body);
    }
  }
}
