import type { IncomingMessage, ServerResponse } from 'node:http';

export const LINGER_MS = 5_000;

/**
 * For an answer sent before the request body was read to its end (413, 422, 400 on an
 * upload): the rest of the body is discarded, never processed; the connection is kept
 * just long enough (a "lingering close", as nginx does) for the client to read the answer.
 * Closing at once would make the kernel reset the connection with unread data pending,
 * and the client would see a connection error instead of the answer.
 */
export function lingerAfterEarlyResponse(req: IncomingMessage, res: ServerResponse, maxMs = LINGER_MS): void {
  if (req.complete) return;
  res.once('finish', () => {
    if (req.complete) return;
    req.unpipe();
    req.resume();
    const timer = setTimeout(() => req.socket.destroy(), maxMs);
    timer.unref();
    const done = () => clearTimeout(timer);
    req.once('end', done);
    req.socket.once('close', done);
  });
}
