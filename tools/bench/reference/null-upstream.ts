/**
 * The upstream that does nothing, for the gateway's CPU figures: answers every request at
 * once with a small JSON list, the shape of `GET /documents` with no documents.
 * `node null-upstream.js` prints `listening on <port>`.
 */
import { createServer } from 'node:http';

const BODY = Buffer.from('{"items":[],"nextCursor":null}');

const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': BODY.length });
  res.end(BODY);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening on ${typeof address === 'object' && address ? address.port : '?'}\n`);
});
process.once('SIGTERM', () => process.exit(0));
