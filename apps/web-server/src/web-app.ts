/**
 * The browser app's server (ADR 0018): the built files of dist/web with a fallback to
 * index.html for the app's routes, /config.json from the environment, and /api/ forwarded
 * to the gateway on the same origin — streamed both ways, never buffered (an upload goes to
 * the gateway as it arrives) — as is the platform's public receipt key set
 * (/.well-known/jwks.json, GET and HEAD only), which the app verifies receipts with. Every
 * page carries a strict Content-Security-Policy.
 */
import { existsSync, statSync } from 'node:fs';
import { ServerResponse, type IncomingMessage } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { Logger } from 'pino';
import { securityHeaders } from './security-headers';
import type { WebServerConfig } from './web-server.config';

/** Hashed build output (assets/name-<hash>.ext): cached for a year, never revalidated. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html and config.json: always revalidated, so a new deployment is picked up at once. */
const NO_CACHE = 'no-cache';

/** The gateway's public routes at its root (ADR 0019) that the app reads: the receipt keys. */
export const PUBLIC_GATEWAY_PATHS: readonly string[] = ['/.well-known/jwks.json'];

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

export interface WebAppOptions {
  config: Pick<
    WebServerConfig,
    | 'GATEWAY_URL'
    | 'WEB_ROOT'
    | 'WEB_API_BASE'
    | 'AUTH_AUDIENCE'
    | 'CITIZEN_ISSUER'
    | 'OFFICIAL_ISSUER'
    | 'WEB_CLIENT_ID'
    | 'WEB_HSTS'
    | 'WEB_HEALTH_PORT'
  >;
  log: Logger;
}

/** What the app reads at start (apps/web/src/config.ts). */
export function runtimeConfig(c: WebAppOptions['config']) {
  return {
    apiBase: c.WEB_API_BASE,
    audience: c.AUTH_AUDIENCE,
    issuers: { citizen: c.CITIZEN_ISSUER, official: c.OFFICIAL_ISSUER },
    clientId: c.WEB_CLIENT_ID,
  };
}

function problem(res: ServerResponse, status: number, code: string, title: string, detail: string, headers: Record<string, string> = {}) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify({ type: `https://errors.dvd.example/${code}`, title, status, detail }));
}

/** /health/live (the process) and /health/ready (the built app is there to serve). */
function addHealthRoutes(app: Express, indexFile: string): void {
  app.get('/health/live', (_req, res) => {
    res.set('cache-control', 'no-store').json({ status: 'ok' });
  });
  app.get('/health/ready', (_req, res) => {
    const ready = existsSync(indexFile);
    res
      .status(ready ? 200 : 503)
      .set('cache-control', 'no-store')
      .json({ status: ready ? 'ok' : 'down', checks: [{ name: 'web-root', status: ready ? 'up' : 'down' }] });
  });
}

/**
 * The health endpoints alone, for WEB_HEALTH_PORT: probes reach them there, while the app's
 * own port (the one behind the Ingress) answers /health/* like any other route of the app.
 */
export function createHealthApp({ config }: Pick<WebAppOptions, 'config'>): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  addHealthRoutes(app, join(resolve(config.WEB_ROOT), 'index.html'));
  app.use((_req, res) => {
    res.status(404).set('cache-control', 'no-store').type('text/plain').send('Not found');
  });
  return app;
}

export function createWebApp({ config, log }: WebAppOptions): Express {
  const root = resolve(config.WEB_ROOT);
  const indexFile = join(root, 'index.html');
  const headers = securityHeaders({ issuers: [config.CITIZEN_ISSUER, config.OFFICIAL_ISSUER], hsts: config.WEB_HSTS });
  const configJson = JSON.stringify(runtimeConfig(config));

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', false);

  // health on this port, unless it has a port of its own (WEB_HEALTH_PORT: never public)
  if (config.WEB_HEALTH_PORT === undefined) addHealthRoutes(app, indexFile);

  // ── /api/ and the receipt keys: the gateway, streamed ───────────────────────────────
  // No body parser runs before this: the request body is piped to the gateway as it arrives.
  app.use(
    createProxyMiddleware<IncomingMessage, ServerResponse>({
      target: config.GATEWAY_URL,
      pathFilter: (path, req) =>
        path === '/api' ||
        path.startsWith('/api/') ||
        (PUBLIC_GATEWAY_PATHS.includes(path) && (req.method === 'GET' || req.method === 'HEAD')),
      changeOrigin: true,
      xfwd: false,
      ws: false,
      on: {
        error: (err, _req, res) => {
          const code = (err as NodeJS.ErrnoException).code;
          log.warn({ errorName: err.name, code }, 'gateway unreachable');
          if (res instanceof ServerResponse) {
            problem(res, 503, 'upstream-unavailable', 'Service Unavailable', 'The gateway is unavailable; retry later', {
              'retry-after': '2',
            });
          }
        },
      },
    }),
  );

  // ── the app ──────────────────────────────────────────────────────────────────────────
  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.set(headers);
    next();
  });

  app.get('/config.json', (_req, res) => {
    res.set({ 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' }).send(configJson);
  });

  // precompressed build output (name.js.gz beside name.js, written by the build) for clients that take gzip
  app.get(/^\/assets\/.+\.(js|css|svg)$/, (req, res, next) => {
    const file = safeJoin(root, req.path);
    if (!file || !req.acceptsEncodings('gzip') || !isFile(`${file}.gz`)) return next();
    res.set({
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-encoding': 'gzip',
      vary: 'Accept-Encoding',
      'cache-control': IMMUTABLE,
    });
    res.sendFile(`${file}.gz`, { dotfiles: 'deny' }, (err) => err && next(err));
  });

  app.use(
    express.static(root, {
      index: false,
      redirect: false,
      dotfiles: 'deny',
      fallthrough: true,
      setHeaders: (res, path) => {
        const rel = path.slice(root.length);
        res.setHeader(
          'cache-control',
          rel.startsWith(`${sep}assets${sep}`) ? IMMUTABLE : path === indexFile ? NO_CACHE : 'public, max-age=3600',
        );
        if (TYPES[extname(path)]) res.setHeader('content-type', TYPES[extname(path)]);
      },
    }),
  );

  // a missing file is a 404, not the app (a stale chunk must fail visibly, not parse HTML as JS)
  app.use((req, res, next) => {
    if (req.path.startsWith('/assets/') || extname(req.path) !== '') {
      res.status(404).set('cache-control', 'no-store').type('text/plain').send('Not found');
      return;
    }
    next();
  });

  // every other GET is a route of the single-page app
  app.get(/.*/, (_req, res, next) => {
    res.set({ 'cache-control': NO_CACHE, 'content-type': 'text/html; charset=utf-8' });
    res.sendFile(indexFile, (err) => err && next(err));
  });

  app.use((req, res) => {
    res.status(405).set('allow', 'GET, HEAD').type('text/plain').send('Method not allowed');
  });

  // errors: a line in the log (no paths with query strings, no bodies), a plain 500
  app.use((err: Error & { status?: number }, req: Request, res: Response, _next: NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log.error({ errorName: err.name, path: req.path }, 'web request failed');
    if (res.headersSent) return res.destroy();
    res
      .status(status)
      .set('cache-control', 'no-store')
      .type('text/plain')
      .send(status === 404 ? 'Not found' : 'Error');
  });

  return app;
}

function safeJoin(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const file = normalize(join(root, decoded));
  return file.startsWith(root + sep) ? file : null;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
