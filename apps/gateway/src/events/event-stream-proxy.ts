import { Agent as HttpAgent, IncomingMessage, OutgoingHttpHeaders, ServerResponse, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Logger } from 'pino';
import { sendProblem } from '@dvd/platform';
import { upstreamFailure } from '../proxy/upstream-failure';

/** Response headers of realtime passed on to the client; everything else stays behind. */
const PASSED_HEADERS = ['content-type', 'cache-control', 'retry-after', 'x-request-id'];

/**
 * The gateway's leg of `GET /api/v1/events` (ADR 0021): streamed, never buffered, without a
 * timeout. The general proxy would hold the connection to a response timeout and queue
 * beyond its socket pool; a stream lives as long as the client's token. Every chunk realtime
 * writes is written on at once (`pipe`: if the client does not read, realtime's side fills up
 * and realtime drops the stream); when the client goes away the upstream request is
 * destroyed at once, and when realtime ends or drops the stream, so does the client's.
 */
export class EventStreamProxy {
  private readonly agent: HttpAgent;
  private readonly open = new Set<{ upstream: ReturnType<typeof httpRequest>; res: ServerResponse }>();
  private readonly request: typeof httpRequest;

  constructor(
    private readonly target: string,
    private readonly log: Logger,
  ) {
    const https = new URL(target).protocol === 'https:';
    // one connection per stream, as many as there are streams (the general proxy's pool is 1024)
    this.agent = https
      ? new HttpsAgent({ keepAlive: true, maxSockets: Infinity })
      : new HttpAgent({ keepAlive: true, maxSockets: Infinity });
    this.request = https ? (httpsRequest as typeof httpRequest) : httpRequest;
  }

  get openStreams(): number {
    return this.open.size;
  }

  forward(req: IncomingMessage, res: ServerResponse, path: string, headers: Record<string, string>, requestId: string): void {
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    const upstream = this.request(new URL(path, this.target), { method: 'GET', agent: this.agent, headers, timeout: 0 });
    const entry = { upstream, res };
    this.open.add(entry);
    const started = Date.now();
    const done = () => this.open.delete(entry);
    // the client went away (or the stream ended): let go of realtime at once
    res.once('close', () => {
      done();
      upstream.destroy();
      // the stream's access log line (the per-request logger is off for it); the path without its query (a ticket)
      this.log.info(
        { requestId, path: '/api/v1/events', statusCode: res.statusCode, durationMs: Date.now() - started },
        'event stream ended',
      );
    });
    upstream.once('response', (up: IncomingMessage) => {
      const out: OutgoingHttpHeaders = {};
      for (const name of PASSED_HEADERS) if (up.headers[name] !== undefined) out[name] = up.headers[name];
      if (up.statusCode === 200) out['x-accel-buffering'] = 'no';
      res.writeHead(up.statusCode ?? 502, out);
      res.flushHeaders();
      up.pipe(res);
      // realtime dropped the stream (a slow client, a stopping replica): the client's ends too
      up.once('aborted', () => res.destroy());
      up.once('error', () => res.destroy());
    });
    upstream.once('error', (err: NodeJS.ErrnoException) => {
      done();
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const problem = upstreamFailure(err.code, false);
      this.log.warn({ requestId, upstream: 'realtime', code: err.code, status: problem.status }, 'upstream failed');
      sendProblem(res, problem, '/api/v1/events', requestId);
    });
    upstream.end();
  }

  /** A draining gateway ends its streams at once: the clients reconnect to another replica and resume. */
  closeAll(): void {
    for (const { upstream, res } of [...this.open]) {
      upstream.destroy();
      res.end();
    }
    this.open.clear();
  }
}
