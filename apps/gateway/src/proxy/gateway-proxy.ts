import { Agent as HttpAgent, IncomingMessage, ServerResponse, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { IDENTITY_HEADER_NAMES, Identity, ROLES } from '@dvd/contracts';
import {
  ApiError,
  EMPTY_BODY_DIGEST,
  MAX_DIGESTED_BODY_BYTES,
  bodyDigest,
  catalogueCounter,
  genericError,
  initialiseLabels,
  isStreamedContentType,
  lingerAfterEarlyResponse,
  SigningKey,
  parseHmacKeys,
  parseSigningKey,
  requestIdFrom,
  sendProblem,
  setRouteTemplate,
  signIdentity,
  streamedBodyOf,
  tracingActive,
} from '@dvd/platform';
import { AuthenticationError, JwtVerifier, VerifiedCaller } from '../auth/jwt-verifier';
import { EventStreamProxy } from '../events/event-stream-proxy';
import { EventTickets } from '../events/event-tickets';
import { GatewayConfig } from '../gateway.config';
import { RateLimiter } from '../rate-limit/rate-limiter';
import { Upstream, publicRouteFor, routeTemplateFor, upstreamFor, upstreamUrls } from './route-table';
import { upstreamFailure } from './upstream-failure';

export const API_BASE = '/api/v1';
/** How long a kept-alive connection to a service may idle in the gateway's pool. */
export const IDLE_UPSTREAM_SOCKET_MS = 30_000;

/**
 * Request headers never forwarded: identity is ours to stamp, the token stays at the edge,
 * and a client does not choose the trace its request joins (ADR 0023; with tracing on, the
 * gateway starts the trace and sends its own `traceparent`).
 */
const DROPPED_REQUEST_HEADERS = [
  ...IDENTITY_HEADER_NAMES,
  'authorization',
  'cookie',
  'traceparent',
  'tracestate',
  'baggage',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
];

type GatewayRequest = IncomingMessage & {
  dvd?: {
    requestId: string;
    upstream: string;
    instance: string;
    answered?: boolean;
    timedOut?: boolean;
    body?: Buffer;
    /** The gateway's own answer headers (request id, rate limit), written with the service's in one go. */
    own: OwnHeaders;
  };
};

/**
 * The headers the gateway adds to every answer, collected while it decides and written
 * once: with the service's answer in the same `writeHead` (a header set on the response
 * before would make Node merge and check every header of the answer a second time), or
 * on the gateway's own answer (a problem, a ticket).
 */
class OwnHeaders {
  private readonly names: string[] = [];
  private readonly values: string[] = [];
  /** The names in lower case: the service's copies of these are dropped. */
  private readonly lower = new Set<string>();

  /** Every answer carries its request id. */
  constructor(requestId: string) {
    this.set('X-Request-Id', requestId);
  }

  set(name: string, value: string): void {
    const at = this.names.indexOf(name);
    if (at >= 0) this.values[at] = value;
    else {
      this.names.push(name);
      this.values.push(value);
      this.lower.add(name.toLowerCase());
    }
  }

  /** Onto a response the gateway answers itself. */
  applyTo(res: ServerResponse): void {
    if (res.headersSent) return;
    for (let i = 0; i < this.names.length; i++) res.setHeader(this.names[i], this.values[i]);
  }

  /** The service's raw answer headers, without hop-by-hop ones and without its copies of ours, then ours. */
  withService(raw: string[]): string[] {
    const out = withoutHopByHopRaw(raw, this.lower);
    for (let i = 0; i < this.names.length; i++) out.push(this.names[i], this.values[i]);
    return out;
  }
}

/**
 * The request headers for the service as one raw array: Node takes an array as it is
 * (checked once while written) instead of setting and checking each header of an object
 * and then writing them. The Host header goes on as the client sent it (or the service's).
 * Not with tracing on: the http instrumentation adds the traceparent to a headers object
 * (and would take an array for one), so then the object goes.
 */
function rawRequestHeaders(headers: IncomingMessage['headers'], host: string, method: string): string[] {
  const out: string[] = [];
  let hasHost = false;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (name === 'host') hasHost = true;
    if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  if (!hasHost) out.push('host', host);
  // Node writes an array's head at once and would frame a POST, PUT or PATCH that names no
  // length as chunked; one without a body says so (as Node's own `end()` does for an object)
  if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined && !BODYLESS_BY_DEFAULT.has(method))
    out.push('content-length', '0');
  return out;
}
/** Methods Node does not frame as chunked when a request names no length. */
const BODYLESS_BY_DEFAULT = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

/**
 * Reads a body the identity signature digests, at most `max` bytes: null when it is
 * longer (the rest is left to the early-response handling), 'gone' when the client went away.
 */
function readBounded(req: IncomingMessage, max: number): Promise<Buffer | null | 'gone'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: Buffer | null | 'gone') => {
      req.off('data', onData).off('end', onEnd).off('error', onGone).off('aborted', onGone);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) return done(null);
      chunks.push(chunk);
    };
    const onEnd = () => done(Buffer.concat(chunks));
    const onGone = () => done('gone');
    req.on('data', onData).once('end', onEnd).once('error', onGone).once('aborted', onGone);
  });
}

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1): never forwarded either way. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

/**
 * Drops the hop-by-hop request headers (and those a `Connection` header names) in place,
 * before the request goes to the service. The body keeps the client's framing
 * (Content-Length, or chunked: Node chunks a body whose Transfer-Encoding says so), which
 * the signature binds.
 */
function dropHopByHop(headers: IncomingMessage['headers']): void {
  const connection = headers.connection;
  if (typeof connection === 'string')
    for (const token of connection.toLowerCase().split(',')) {
      const name = token.trim();
      if (!FRAMING.has(name)) delete headers[name];
    }
  for (const name of HOP_BY_HOP) delete headers[name];
}
/** What a `Connection` header cannot take away: the body's framing and its type. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'content-type', 'host']);

/** The service's answer headers (raw, names as sent) without the hop-by-hop ones: the gateway frames and keeps its own connection. */
function withoutHopByHopRaw(raw: string[], skip?: Set<string>): string[] {
  const named = new Set<string>(skip);
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i].toLowerCase() === 'connection') for (const token of raw[i + 1].toLowerCase().split(',')) named.add(token.trim());
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    // the framing, too: Node frames the answer for this client (length, chunked, or close)
    if (!HOP_BY_HOP.has(name) && name !== 'transfer-encoding' && !named.has(name)) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

const tooLargeToSign = () =>
  new ApiError(
    413,
    'payload-too-large',
    'Content Too Large',
    `Bodies other than multipart uploads are limited to ${MAX_DIGESTED_BODY_BYTES} bytes`,
  );

/**
 * The public edge: authenticate, rate-limit, replace identity headers with signed ones,
 * and stream the request to the owning service and its response back (never buffered).
 */
/** The routes of the event stream (ADR 0021): the gateway answers the tickets itself and streams the events. */
const EVENTS_PATH = `${API_BASE}/events`;
const TICKETS_PATH = `${API_BASE}/events/tickets`;
const pathOf = (url: string | undefined) => (url ?? '/').split('?')[0].replace(/\/$/, '');

/** `GET /api/v1/events`: answered before Express, by `eventStream`. */
export function isEventStreamRequest(req: IncomingMessage): boolean {
  return req.method === 'GET' && pathOf(req.url) === EVENTS_PATH;
}

export interface GatewayLimiters {
  /** Every request but the event stream's, per role. */
  requests: RateLimiter;
  /** Event streams opened and tickets taken (RATE_LIMIT_EVENTS_PER_MIN). */
  events: RateLimiter;
}

export interface GatewayEvents {
  tickets: EventTickets;
  stream: EventStreamProxy;
}

const hasBody = (req: IncomingMessage) => req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

export interface GatewayHandlers {
  /** The path of a request the gateway answers itself (below /api/v1, or a public route); null for Express's (docs, health, metrics). */
  ownPath: (req: IncomingMessage) => string | null;
  /** Answers a request {@link ownPath} claimed (not the event stream): authenticate, rate-limit, sign, proxy. */
  answer: (req: IncomingMessage, res: ServerResponse, path: string) => void;
  /**
   * `GET /api/v1/events`, answered before Express (ADR 0021): an open stream holds nothing of
   * Express, Nest or the request logger for its lifetime (kilobytes per stream, 5,000 streams
   * per gateway in the benchmark); it is logged once when it ends.
   */
  eventStream: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

export function gatewayProxy(
  config: GatewayConfig,
  verifier: JwtVerifier,
  limiters: GatewayLimiters,
  log: Logger,
  events: GatewayEvents,
  metrics?: Registry,
  draining: () => boolean = () => false,
): GatewayHandlers {
  const upstreams = upstreamUrls(config);
  const tracing = tracingActive();
  // parsed once; the request's own target is the path (a path in a service's URL is ignored)
  const targets = new Map(
    Object.values(upstreams).map((u) => {
      const url = new URL(u);
      return [u, { protocol: url.protocol, hostname: url.hostname, port: url.port, host: url.host }] as const;
    }),
  );
  const rejections = catalogueCounter(metrics, 'dvd_rate_limit_rejections_total');
  initialiseLabels(
    rejections,
    ROLES.filter((role) => role !== 'service').map((role) => ({ role })),
  );
  // only the gateway holds this key; services verify with its public half (ADR 0014)
  const signingKey = parseSigningKey(config.IDENTITY_SIGNING_KEY);
  // towards a service it shares a secret with, HMAC instead: a fortieth of the CPU (ADR 0025);
  // during a rotation the last key of a service is the one to sign with
  const sharedKeys = new Map<string, SigningKey>();
  for (const key of config.IDENTITY_HMAC_KEYS ? parseHmacKeys(config.IDENTITY_HMAC_KEYS) : []) sharedKeys.set(key.audience, key);
  const keyFor = (upstream: Upstream): SigningKey => sharedKeys.get(upstream) ?? signingKey;

  // Keep-alive to the services; without an agent every request would open a connection.
  // An idle connection is let go after IDLE_UPSTREAM_SOCKET_MS, long before the service
  // would close it (HTTP_KEEP_ALIVE_TIMEOUT_MS, 75 s): reusing one the service is closing
  // at that moment fails the request (ECONNRESET), and Node's agent keeps idle sockets
  // forever unless told otherwise. Requests in flight have UPSTREAM_TIMEOUT_MS instead.
  const pool = { keepAlive: true, maxSockets: 1024, timeout: IDLE_UPSTREAM_SOCKET_MS };
  const agents = { 'http:': new HttpAgent(pool), 'https:': new HttpsAgent(pool) };

  /** A failure on the way to the service: before it answered, a problem (503, 504 or 502); after, only the rest of an upload is dropped. */
  function failed(req: GatewayRequest, res: ServerResponse, err: Error): void {
    const dvd = req.dvd!;
    // after the answer: the rest of an upload the service refused early (e.g. 413) cannot
    // be written any more; the answer itself goes on (an answer cut short ends the response, below)
    if (dvd.answered) return void req.unpipe();
    if (res.headersSent || res.destroyed) return;
    dvd.answered = true;
    const code = (err as NodeJS.ErrnoException).code;
    const problem = upstreamFailure(code, dvd.timedOut === true);
    log.warn({ requestId: dvd.requestId, upstream: dvd.upstream, code, status: problem.status }, 'upstream failed');
    lingerAfterEarlyResponse(req, res);
    dvd.own.applyTo(res);
    sendProblem(res, problem, dvd.instance, dvd.requestId);
  }

  /**
   * Streams the request to its service and the answer back, never buffered, on Node's own
   * client (ADR 0016 says why not http-proxy). The request target goes on byte for byte, as
   * signed; hop-by-hop headers stay on their hop (RFC 9110 §7.6.1).
   */
  function proxy(req: GatewayRequest, res: ServerResponse): void {
    const dvd = req.dvd!;
    const target = targets.get(dvd.upstream)!;
    const out = (target.protocol === 'https:' ? httpsRequest : httpRequest)({
      agent: agents[target.protocol as 'http:' | 'https:'],
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      // with tracing on, an object: the http instrumentation writes the traceparent into it
      headers: tracing ? req.headers : rawRequestHeaders(req.headers, target.host, req.method ?? 'GET'),
      timeout: config.UPSTREAM_TIMEOUT_MS,
    });
    out.once('timeout', () => {
      dvd.timedOut = true;
      out.destroy(Object.assign(new Error('upstream timeout'), { code: 'ETIMEDOUT' }));
    });
    out.on('error', (err) => failed(req, res, err));
    req.once('error', (err) => failed(req, res, err));
    // a client that leaves before the answer ends (a download, too) stops the service's work on it
    res.once('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    // a failed write to a client that went away is no crash (the request ends with it)
    res.on('error', () => undefined);
    out.once('response', (up) => {
      // the service answered; a later error writing the rest of the body (it refused the
      // upload early, e.g. 413) must not replace that answer
      dvd.answered = true;
      lingerAfterEarlyResponse(req, res);
      res.writeHead(up.statusCode ?? 502, up.statusMessage, dvd.own.withService(up.rawHeaders));
      up.pipe(res);
      // the service's answer cut short: the client's ends as well (it must not look complete)
      up.once('error', () => res.destroy());
    });
    // a body the signature digests was read already: send exactly those bytes on; a request
    // without a body (most GETs) ends at once, without a pipe and its listeners per request
    if (dvd.body) out.end(dvd.body);
    else if (hasBody(req)) req.pipe(out);
    else out.end();
  }

  /**
   * A public route of the registry (the receipt keys): no token, no rate limit, no identity
   * stamped, no body; every client identity header is dropped as always. The service serves
   * the path without an identity.
   */
  function handlePublic(
    req: GatewayRequest,
    res: ServerResponse,
    path: string,
    upstream: string,
    requestId: string,
    own: OwnHeaders,
  ): void {
    if (hasBody(req)) {
      own.applyTo(res);
      return sendProblem(res, ApiError.badRequest('This route takes no body'), path, requestId);
    }
    dropHopByHop(req.headers);
    for (const h of DROPPED_REQUEST_HEADERS) delete req.headers[h];
    req.headers['x-request-id'] = requestId;
    req.dvd = { requestId, upstream, instance: path, own };
    proxy(req, res);
  }

  /** Who is calling: the bearer token's caller, or (event stream only) the ticket's; null when refused (answered). */
  async function authenticate(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    fail: (err: ApiError) => void,
    ticket: string | null,
  ): Promise<VerifiedCaller | null> {
    if (ticket !== null) {
      if (req.headers.authorization !== undefined) {
        fail(ApiError.badRequest('Send either a bearer token or a ticket, not both'));
        return null;
      }
      let redeemed: VerifiedCaller | null;
      try {
        redeemed = await events.tickets.redeem(ticket);
      } catch (err) {
        fail(err as ApiError);
        return null;
      }
      if (!redeemed) {
        log.info({ requestId, reason: 'unknown ticket' }, 'ticket refused');
        fail(ApiError.unauthorized('The ticket is unknown, expired or used'));
      }
      return redeemed;
    }
    const auth = req.headers.authorization;
    const match = typeof auth === 'string' ? /^Bearer ([A-Za-z0-9_\-.~+/=]+)$/.exec(auth) : null;
    if (!match) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="dvd-api"');
      fail(ApiError.unauthorized('A bearer token is required'));
      return null;
    }
    try {
      return await verifier.verify(match[1]);
    } catch (err) {
      const reason = err instanceof AuthenticationError ? err.reason : 'verification failed';
      log.info({ requestId, reason }, 'token refused');
      res.setHeader('WWW-Authenticate', 'Bearer realm="dvd-api", error="invalid_token"');
      fail(ApiError.unauthorized(`The bearer token was refused (${reason})`));
      return null;
    }
  }

  /** One hit on the limiter; false when refused (answered 429). */
  async function admit(limiter: RateLimiter, identity: Identity, own: OwnHeaders, fail: (err: ApiError) => void): Promise<boolean> {
    const decision = await limiter.hit(identity);
    for (const k in decision.headers) own.set(k, decision.headers[k]);
    if (decision.allowed) return true;
    rejections.inc({ role: identity.role });
    fail(
      new ApiError(429, 'rate-limited', 'Too Many Requests', 'The rate limit for your role is exhausted; retry later', undefined, {
        'Retry-After': String(decision.retryAfterSeconds),
      }),
    );
    return false;
  }

  async function eventStream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    const own = new OwnHeaders(requestId);
    const fail = (err: ApiError) => {
      lingerAfterEarlyResponse(req, res);
      own.applyTo(res);
      sendProblem(res, err, EVENTS_PATH, requestId);
    };
    if (draining()) return fail(ApiError.unavailable('This gateway is stopping; reconnect'));
    // a browser's stream comes with a single-use ticket instead of the token; never forwarded, never logged
    const url = new URL(req.url ?? '/', 'http://gateway');
    const caller = await authenticate(req, res, requestId, fail, url.searchParams.get('ticket'));
    if (!caller) return;
    const identity: Identity = { ...caller, requestId };
    // streams count against a limit of their own: a reconnecting client must not eat a citizen's requests
    if (!(await admit(limiters.events, identity, own, fail))) return;
    if (hasBody(req)) return fail(ApiError.badRequest('This route takes no body'));
    url.searchParams.delete('ticket');
    const rest = url.searchParams.toString();
    const path = `${url.pathname}${rest ? `?${rest}` : ''}`;
    const headers: Record<string, string> = {
      accept: 'text/event-stream',
      ...(typeof req.headers['last-event-id'] === 'string' ? { 'last-event-id': req.headers['last-event-id'] } : {}),
      ...signIdentity(keyFor('realtime'), identity, 'GET', path, EMPTY_BODY_DIGEST),
    };
    own.applyTo(res); // a stream's answer is written by the stream proxy
    events.stream.forward(req, res, path, headers, requestId);
  }

  /**
   * Every request below /api/v1 but the event stream, and the public routes: answered before
   * Express (one framework pass per request was a third of the gateway's JavaScript, see
   * docs/performance.md). The caller counts it in flight and in the metrics first.
   */
  async function api(req: GatewayRequest, res: ServerResponse, path: string, requestId: string, own: OwnHeaders): Promise<void> {
    const publicRoute = publicRouteFor(req.method ?? 'GET', path);
    if (publicRoute) {
      setRouteTemplate(req, publicRoute.template);
      return handlePublic(req, res, path, upstreams[publicRoute.upstream], requestId, own);
    }
    const method = req.method ?? 'GET';
    const below = path.slice(API_BASE.length);
    // the metrics' route label, also for requests refused here (401, 429); none for an unknown path
    const template = routeTemplateFor(method, below);
    if (template) setRouteTemplate(req, `${API_BASE}${template}`);
    const fail = (err: ApiError) => {
      lingerAfterEarlyResponse(req, res); // a refused upload is not read on, only discarded
      own.applyTo(res);
      sendProblem(res, err, path, requestId);
    };

    const caller = await authenticate(req, res, requestId, fail, null);
    if (!caller) return;
    const identity: Identity = { ...caller, requestId };
    const ticketRoute = method === 'POST' && pathOf(path) === TICKETS_PATH;
    if (!(await admit(ticketRoute ? limiters.events : limiters.requests, identity, own, fail))) return;

    if (ticketRoute) {
      if (hasBody(req)) return fail(ApiError.badRequest('This route takes no body'));
      try {
        const issued = JSON.stringify(await events.tickets.issue(caller));
        own.applyTo(res);
        res.writeHead(200, {
          'Cache-Control': 'no-store',
          'Content-Type': 'application/json; charset=utf-8',
          'Content-Length': Buffer.byteLength(issued),
        });
        res.end(issued);
      } catch (err) {
        fail(err as ApiError);
      }
      return;
    }
    if (pathOf(path) === EVENTS_PATH) return fail(ApiError.notFound('route')); // the stream is GET only

    const upstream = upstreamFor(below);
    if (!upstream) return fail(ApiError.notFound('route'));
    const declaredLength = Number(req.headers['content-length'] ?? 0);
    // Multipart framing and the JSON base64 variant add overhead on top of the payload.
    if (declaredLength > config.MAX_UPLOAD_BYTES + 1024 * 1024) {
      return fail(new ApiError(413, 'payload-too-large', 'Content Too Large', `Uploads are limited to ${config.MAX_UPLOAD_BYTES} bytes`));
    }

    dropHopByHop(req.headers);
    for (const h of DROPPED_REQUEST_HEADERS) delete req.headers[h];
    // The signature covers the body: multipart uploads stream (bound to length and type),
    // every other body is read here, bounded, and its sha-256 signed.
    let signedBody = EMPTY_BODY_DIGEST;
    let body: Buffer | undefined;
    if (isStreamedContentType(req.headers['content-type'])) {
      const binding = streamedBodyOf(req.headers);
      if (!binding) return fail(ApiError.badRequest('A multipart upload needs a Content-Length or chunked transfer coding'));
      signedBody = binding;
    } else if (req.headers['transfer-encoding'] !== undefined || declaredLength > 0) {
      if (declaredLength > MAX_DIGESTED_BODY_BYTES) return fail(tooLargeToSign());
      const read = await readBounded(req, MAX_DIGESTED_BODY_BYTES);
      if (read === 'gone') return;
      if (!read) return fail(tooLargeToSign());
      body = read;
      signedBody = bodyDigest(read);
      delete req.headers['transfer-encoding'];
      req.headers['content-length'] = String(read.length);
    }
    // the request target as it came, byte for byte (`proxy` sends req.url on): what the service verifies
    Object.assign(req.headers, signIdentity(keyFor(upstream), identity, method, req.url ?? path, signedBody));
    req.dvd = { requestId, upstream: upstreams[upstream], instance: path, body, own };
    proxy(req, res);
  }

  /**
   * The gateway's own requests (see {@link GatewayHandlers.ownPath}), answered; a failure
   * of the gateway itself is a 500 problem, never an unhandled rejection.
   */
  function answer(req: IncomingMessage, res: ServerResponse, path: string): void {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    const own = new OwnHeaders(requestId);
    api(req, res, path, requestId, own).catch((err: unknown) => {
      // only the error's class: its message may quote input
      log.error({ errorName: (err as Error)?.name }, 'gateway failed');
      own.applyTo(res);
      sendProblem(res, err instanceof ApiError ? err : genericError(500, 'An unexpected error occurred'), path, requestId);
    });
  }

  function ownPath(req: IncomingMessage): string | null {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === API_BASE || path.startsWith(`${API_BASE}/`)) return path;
    return publicRouteFor(req.method ?? 'GET', path) ? path : null;
  }

  return { ownPath, answer, eventStream };
}
