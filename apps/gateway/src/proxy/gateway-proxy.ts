import { Agent, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { IDENTITY_HEADER_NAMES, Identity, ROLES } from '@dvd/contracts';
import {
  ApiError,
  EMPTY_BODY_DIGEST,
  MAX_DIGESTED_BODY_BYTES,
  bodyDigest,
  catalogueCounter,
  initialiseLabels,
  isStreamedContentType,
  lingerAfterEarlyResponse,
  parseSigningKey,
  requestIdFrom,
  sendProblem,
  setRouteTemplate,
  signIdentity,
  streamedBodyOf,
} from '@dvd/platform';
import { AuthenticationError, JwtVerifier, VerifiedCaller } from '../auth/jwt-verifier';
import { EventStreamProxy } from '../events/event-stream-proxy';
import { EventTickets } from '../events/event-tickets';
import { GatewayConfig } from '../gateway.config';
import { RateLimiter } from '../rate-limit/rate-limiter';
import { publicRouteFor, routeTemplateFor, upstreamFor, upstreamUrls } from './route-table';
import { upstreamFailure } from './upstream-failure';

export const API_BASE = '/api/v1';

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

type GatewayRequest = Request & { dvd?: { requestId: string; upstream: string; answered?: boolean; timedOut?: boolean; body?: Buffer } };

/**
 * Reads a body the identity signature digests, at most `max` bytes: null when it is
 * longer (the rest is left to the early-response handling), 'gone' when the client went away.
 */
function readBounded(req: Request, max: number): Promise<Buffer | null | 'gone'> {
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
type EventsRoute = 'stream' | 'ticket' | null;
function eventsRouteOf(method: string, path: string): EventsRoute {
  const p = path.replace(/\/$/, '');
  if (p === EVENTS_PATH && method === 'GET') return 'stream';
  if (p === TICKETS_PATH && method === 'POST') return 'ticket';
  return null;
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

const hasBody = (req: Request) => req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

export function gatewayProxy(
  config: GatewayConfig,
  verifier: JwtVerifier,
  limiters: GatewayLimiters,
  log: Logger,
  events: GatewayEvents,
  metrics?: Registry,
) {
  const upstreams = upstreamUrls(config);
  const rejections = catalogueCounter(metrics, 'dvd_rate_limit_rejections_total');
  initialiseLabels(
    rejections,
    ROLES.filter((role) => role !== 'service').map((role) => ({ role })),
  );
  // only the gateway holds this key; services verify with its public half (ADR 0014)
  const signingKey = parseSigningKey(config.IDENTITY_SIGNING_KEY);

  const proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
    router: (req) => (req as GatewayRequest).dvd!.upstream,
    // keep-alive to the services; without an agent every request would open a connection
    agent: new Agent({ keepAlive: true, maxSockets: 1024 }),
    changeOrigin: false,
    xfwd: false,
    proxyTimeout: config.UPSTREAM_TIMEOUT_MS,
    logger: undefined,
    on: {
      proxyReq: (proxyReq, req) => {
        // http-proxy aborts on proxyTimeout with a plain "socket hang up": remember why
        proxyReq.once('timeout', () => {
          const r = req as GatewayRequest;
          if (r.dvd) r.dvd.timedOut = true;
        });
        // a body the signature digests was read here; send exactly those bytes on
        const body = (req as GatewayRequest).dvd?.body;
        if (body) proxyReq.write(body);
      },
      proxyRes: (_proxyRes, req, res) => {
        // the service answered; a later error writing the rest of the body (it refused the
        // upload early, e.g. 413) must not replace that answer
        (req as GatewayRequest).dvd!.answered = true;
        lingerAfterEarlyResponse(req, res);
      },
      error: (err, req, res) => {
        const r = req as GatewayRequest;
        if (r.dvd?.answered) {
          r.unpipe();
          return;
        }
        const code = (err as NodeJS.ErrnoException).code;
        const problem = upstreamFailure(code, r.dvd?.timedOut === true);
        log.warn({ requestId: r.dvd?.requestId, upstream: r.dvd?.upstream, code, status: problem.status }, 'upstream failed');
        if ((res as Socket).destroy && !(res as ServerResponse).setHeader) return (res as Socket).destroy();
        sendProblem(res as ServerResponse, problem, r.originalUrl.split('?')[0], r.dvd?.requestId);
      },
    },
  });

  /**
   * A public route of the registry (the receipt keys): no token, no rate limit, no identity
   * stamped, no body; every client identity header is dropped as always. The service serves
   * the path without an identity.
   */
  async function handlePublic(req: GatewayRequest, res: Response, next: NextFunction, upstream: string): Promise<void> {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('X-Request-Id', requestId);
    if (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0) {
      return sendProblem(res, ApiError.badRequest('This route takes no body'), req.path, requestId);
    }
    for (const h of DROPPED_REQUEST_HEADERS) delete req.headers[h];
    req.headers['x-request-id'] = requestId;
    req.dvd = { requestId, upstream };
    await proxy(req, res, next);
  }

  return async function handle(req: GatewayRequest, res: Response, next: NextFunction): Promise<void> {
    const publicRoute = publicRouteFor(req.method, req.path);
    if (publicRoute) {
      setRouteTemplate(req, publicRoute.template);
      return handlePublic(req, res, next, upstreams[publicRoute.upstream]);
    }
    if (req.path !== API_BASE && !req.path.startsWith(`${API_BASE}/`)) return next();
    // the metrics' route label, also for requests refused here (401, 429); none for an unknown path
    const template = routeTemplateFor(req.method, req.path.slice(API_BASE.length));
    if (template) setRouteTemplate(req, `${API_BASE}${template}`);
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('X-Request-Id', requestId);
    const instance = req.path;
    const fail = (err: ApiError) => {
      lingerAfterEarlyResponse(req, res); // a refused upload is not read on, only discarded
      sendProblem(res, err, instance, requestId);
    };

    const eventsRoute = eventsRouteOf(req.method, req.path);
    // a browser's stream comes with a single-use ticket instead of the token (ADR 0021); never forwarded, never logged
    const query = new URL(req.originalUrl, 'http://gateway').searchParams;
    const ticket = eventsRoute === 'stream' ? query.get('ticket') : null;
    let caller: VerifiedCaller;
    if (ticket !== null) {
      if (req.headers.authorization !== undefined) return fail(ApiError.badRequest('Send either a bearer token or a ticket, not both'));
      let redeemed: VerifiedCaller | null;
      try {
        redeemed = await events.tickets.redeem(ticket);
      } catch (err) {
        return fail(err as ApiError);
      }
      if (!redeemed) {
        log.info({ requestId, reason: 'unknown ticket' }, 'ticket refused');
        return fail(ApiError.unauthorized('The ticket is unknown, expired or used'));
      }
      caller = redeemed;
    } else {
      const auth = req.headers.authorization;
      const match = typeof auth === 'string' ? /^Bearer ([A-Za-z0-9_\-.~+/=]+)$/.exec(auth) : null;
      if (!match) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="dvd-api"');
        return fail(ApiError.unauthorized('A bearer token is required'));
      }
      try {
        caller = await verifier.verify(match[1]);
      } catch (err) {
        const reason = err instanceof AuthenticationError ? err.reason : 'verification failed';
        log.info({ requestId, reason }, 'token refused');
        res.setHeader('WWW-Authenticate', 'Bearer realm="dvd-api", error="invalid_token"');
        return fail(ApiError.unauthorized(`The bearer token was refused (${reason})`));
      }
    }
    const identity: Identity = { ...caller, requestId };

    // streams count against a limit of their own: a reconnecting client must not eat a citizen's requests
    const decision = await (eventsRoute ? limiters.events : limiters.requests).hit(identity);
    for (const [k, v] of Object.entries(decision.headers)) res.setHeader(k, v);
    if (!decision.allowed) {
      rejections.inc({ role: identity.role });
      return fail(
        new ApiError(429, 'rate-limited', 'Too Many Requests', 'The rate limit for your role is exhausted; retry later', undefined, {
          'Retry-After': String(decision.retryAfterSeconds),
        }),
      );
    }

    if (eventsRoute) {
      if (hasBody(req)) return fail(ApiError.badRequest('This route takes no body'));
      if (eventsRoute === 'ticket') {
        try {
          const issued = await events.tickets.issue(caller);
          res.status(200).setHeader('Cache-Control', 'no-store');
          res.json(issued);
        } catch (err) {
          fail(err as ApiError);
        }
        return;
      }
      query.delete('ticket');
      const rest = query.toString();
      const path = `${req.path}${rest ? `?${rest}` : ''}`;
      const headers: Record<string, string> = {
        accept: 'text/event-stream',
        ...(typeof req.headers['last-event-id'] === 'string' ? { 'last-event-id': req.headers['last-event-id'] } : {}),
        ...signIdentity(signingKey, identity, 'GET', path, EMPTY_BODY_DIGEST),
      };
      events.stream.forward(req, res, path, headers, requestId);
      return;
    }

    const upstream = upstreamFor(req.path.slice(API_BASE.length));
    if (!upstream) return fail(ApiError.notFound('route'));
    const declaredLength = Number(req.headers['content-length'] ?? 0);
    // Multipart framing and the JSON base64 variant add overhead on top of the payload.
    if (declaredLength > config.MAX_UPLOAD_BYTES + 1024 * 1024) {
      return fail(new ApiError(413, 'payload-too-large', 'Content Too Large', `Uploads are limited to ${config.MAX_UPLOAD_BYTES} bytes`));
    }

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
    Object.assign(req.headers, signIdentity(signingKey, identity, req.method, req.originalUrl, signedBody));
    req.dvd = { requestId, upstream: upstreams[upstream], body };
    await proxy(req, res, next);
  };
}
