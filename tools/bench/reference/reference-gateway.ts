/**
 * The reference gateway the bench measures ours against: the least a gateway on this path
 * must do, written by hand on node:http — verify an RS256 bearer token against the
 * issuer's JWKS (fetched once), count the caller's requests in Redis (one INCR per
 * request in a fixed one-minute window), and proxy to the upstream over kept-alive
 * connections, streaming both ways. No framework, no logging, no identity stamping.
 * (It also answers its longest event-loop delay on `LAG_PATH`, for the bench.)
 *
 *   REF_PORT=0 REF_UPSTREAM=http://127.0.0.1:… REF_JWKS_URI=… REF_ISSUER=… REF_AUDIENCE=dvd-api
 *   REDIS_URL=redis://127.0.0.1:6379 REF_REDIS_PREFIX=…   node reference-gateway.js
 *
 * Prints `listening on <port>`.
 */
import { KeyObject, createPublicKey, verify } from 'node:crypto';
import { Agent, IncomingMessage, ServerResponse, createServer, request } from 'node:http';
import Redis from 'ioredis';
import { eventLoopLag } from './event-loop-lag';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};
const upstream = new URL(env('REF_UPSTREAM'));
const issuer = env('REF_ISSUER');
const audience = env('REF_AUDIENCE');
const prefix = process.env.REF_REDIS_PREFIX ?? 'ref:';
const redis = new Redis(env('REDIS_URL'), { enableAutoPipelining: false });
const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
const keys = new Map<string, KeyObject>();

function refuse(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(`{"status":${status}}`);
}

/** The caller's `sub` when the token is a valid RS256 JWT of the issuer for the audience, else null. */
function verified(auth: string | undefined): string | null {
  if (!auth?.startsWith('Bearer ')) return null;
  const [h, p, s] = auth.slice(7).split('.');
  if (!h || !p || !s) return null;
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string; kid?: string };
    const key = header.alg === 'RS256' && header.kid ? keys.get(header.kid) : undefined;
    if (!key || !verify('RSA-SHA256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))) return null;
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as {
      iss?: string;
      aud?: string | string[];
      exp?: number;
      sub?: string;
    };
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (claims.iss !== issuer || !aud.includes(audience) || !claims.sub) return null;
    if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return null;
    return claims.sub;
  } catch {
    return null;
  }
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const sub = verified(req.headers.authorization);
  if (!sub) return refuse(res, 401);
  const key = `${prefix}${sub}:${Math.floor(Date.now() / 60_000)}`;
  const count = await redis.incr(key);
  if (count === 1) void redis.pexpire(key, 60_000);
  const headers = { ...req.headers };
  delete headers.authorization;
  headers.host = upstream.host;
  const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  out.on('error', () => (res.headersSent ? res.destroy() : refuse(res, 502)));
  req.pipe(out);
}

async function main() {
  const jwks = (await (await fetch(env('REF_JWKS_URI'))).json()) as { keys: Array<{ kid?: string; kty: string }> };
  for (const jwk of jwks.keys) if (jwk.kid && jwk.kty === 'RSA') keys.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
  const lag = eventLoopLag();
  const server = createServer((req, res) => {
    if (!lag(req, res)) void handle(req, res).catch(() => refuse(res, 500));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(process.env.REF_PORT ?? 0), '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`listening on ${typeof address === 'object' && address ? address.port : '?'}\n`);
  });
  process.once('SIGTERM', () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`reference gateway failed: ${String(err)}\n`);
  process.exit(1);
});
