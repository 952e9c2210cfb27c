import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { freePort } from '@dvd/testing';
import { createHealthApp, createWebApp } from './web-app';

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  host?: string;
  bytes: number;
}

describe('web server (static app, /config.json, /api/ to the gateway)', () => {
  let root: string;
  let gateway: Server;
  let web: Server;
  let base: string;
  const seen: Seen[] = [];
  /** Resolved when the gateway has received the first bytes of an upload body. */
  let firstBytes: () => void = () => undefined;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'dvd-web-'));
    await mkdir(join(root, 'assets'));
    await writeFile(
      join(root, 'index.html'),
      '<!doctype html><title>app</title><script type="module" src="/assets/app-abc123.js"></script>',
    );
    await writeFile(join(root, 'assets', 'app-abc123.js'), 'console.log("app");'.repeat(50));
    await writeFile(join(root, 'assets', 'app-abc123.js.gz'), gzipSync('console.log("app");'.repeat(50)));
    await writeFile(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');

    gateway = createServer((req: IncomingMessage, res) => {
      const entry: Seen = {
        method: req.method!,
        url: req.url!,
        authorization: req.headers.authorization,
        host: req.headers.host,
        bytes: 0,
      };
      seen.push(entry);
      req.on('data', (c: Buffer) => {
        if (entry.bytes === 0) firstBytes();
        entry.bytes += c.length;
      });
      req.on('end', () => {
        res.writeHead(req.url === '/api/v1/missing' ? 404 : 200, {
          'content-type': 'application/json',
          'x-request-id': 'r-1',
          ...(req.url === '/.well-known/jwks.json' ? { 'cache-control': 'public, max-age=300' } : {}),
        });
        res.end(JSON.stringify({ received: entry.bytes, url: req.url }));
      });
    });
    const gatewayUrl = await listen(gateway);
    web = createServer(
      createWebApp({
        config: {
          GATEWAY_URL: gatewayUrl,
          WEB_ROOT: root,
          WEB_API_BASE: '/api/v1',
          AUTH_AUDIENCE: 'dvd-api',
          CITIZEN_ISSUER: 'http://127.0.0.1:3100/citizen',
          OFFICIAL_ISSUER: 'https://idp.example:8443/official',
          WEB_CLIENT_ID: 'dvd-web',
          WEB_HSTS: false,
        },
        log: pino({ level: 'silent' }),
      }),
    );
    base = await listen(web);
  });

  afterAll(async () => {
    await close(web);
    await close(gateway);
    await rm(root, { recursive: true, force: true });
  });

  it('serves index.html with the security headers and without caching', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' http://127.0.0.1:3100 https://idp.example:8443");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('answers every route of the app with index.html (deep links, reloads)', async () => {
    for (const path of [
      '/citizen',
      '/citizen/documents/0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10',
      '/callback?code=x&state=y',
      '/admin/rules',
    ]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<title>app</title>');
    }
  });

  it('serves /config.json from its configuration', async () => {
    const res = await fetch(`${base}/config.json`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({
      apiBase: '/api/v1',
      audience: 'dvd-api',
      issuers: { citizen: 'http://127.0.0.1:3100/citizen', official: 'https://idp.example:8443/official' },
      clientId: 'dvd-web',
    });
  });

  it('caches hashed assets for good and sends them gzipped to clients that take it', async () => {
    const plain = await fetch(`${base}/assets/app-abc123.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(plain.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(plain.headers.get('content-encoding')).toBeNull();
    const gz = await new Promise<IncomingMessage>((resolve, reject) =>
      request(`${base}/assets/app-abc123.js`, { headers: { 'accept-encoding': 'gzip, br' } }, resolve)
        .on('error', reject)
        .end(),
    );
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toMatch(/Accept-Encoding/);
    gz.resume();
  });

  it('answers a missing file with 404, not with the app; refuses paths out of the root', async () => {
    expect((await fetch(`${base}/assets/gone-123.js`)).status).toBe(404);
    expect((await fetch(`${base}/nope.png`)).status).toBe(404);
    expect((await fetch(`${base}/assets/..%2f..%2f..%2fetc%2fpasswd`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
  });

  it('forwards /api/ to the gateway with path, query and Authorization, and passes the answer back', async () => {
    const res = await fetch(`${base}/api/v1/documents?limit=5`, { headers: { authorization: 'Bearer t-1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('r-1');
    expect(await res.json()).toEqual({ received: 0, url: '/api/v1/documents?limit=5' });
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/api/v1/documents?limit=5', authorization: 'Bearer t-1' });
    const missing = await fetch(`${base}/api/v1/missing`);
    expect(missing.status).toBe(404);
  });

  it('forwards GET and HEAD of the receipt keys (/.well-known/jwks.json) to the gateway, nothing else at /.well-known', async () => {
    const before = seen.length;
    const res = await fetch(`${base}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await res.json()).toEqual({ received: 0, url: '/.well-known/jwks.json' });
    expect((await fetch(`${base}/.well-known/jwks.json`, { method: 'HEAD' })).status).toBe(200);
    expect(seen.slice(before).map((s) => `${s.method} ${s.url}`)).toEqual(['GET /.well-known/jwks.json', 'HEAD /.well-known/jwks.json']);
    // not forwarded: another method, another file there
    expect((await fetch(`${base}/.well-known/jwks.json`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${base}/.well-known/other.json`)).status).toBe(404);
    expect(seen.length).toBe(before + 2);
  });

  it('streams an upload: the gateway has the first bytes before the browser has sent the rest', async () => {
    const reached = new Promise<void>((resolve) => (firstBytes = resolve));
    const chunk = Buffer.alloc(256 * 1024, 7);
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${base}/api/v1/documents`,
        { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.write(chunk);
      // the rest is sent only once the gateway has the first chunk: a buffering proxy would wait for the end forever
      void reached.then(() => {
        for (let i = 0; i < 19; i++) req.write(chunk);
        req.end();
      });
    });
    const { status, body } = await answer;
    expect(status).toBe(200);
    expect(JSON.parse(body)).toMatchObject({ received: 20 * chunk.length, url: '/api/v1/documents' });
  });

  it('serves /health/* on a port of its own when WEB_HEALTH_PORT is set, and not beside the app', async () => {
    const config = {
      GATEWAY_URL: 'http://127.0.0.1:9',
      WEB_ROOT: root,
      WEB_API_BASE: '/api/v1',
      AUTH_AUDIENCE: 'dvd-api',
      CITIZEN_ISSUER: 'http://127.0.0.1:3100/citizen',
      OFFICIAL_ISSUER: 'http://127.0.0.1:3100/official',
      WEB_CLIENT_ID: 'dvd-web',
      WEB_HSTS: false,
      // set: the health endpoints move to createHealthApp (the number itself is main.ts's business)
      WEB_HEALTH_PORT: 1,
    };
    // beside the app (the server without WEB_HEALTH_PORT above): the health answer
    expect(await (await fetch(`${base}/health/ready`)).json()).toMatchObject({ status: 'ok' });
    const app = createServer(createWebApp({ config, log: pino({ level: 'silent' }) }));
    const health = createServer(createHealthApp({ config }));
    const [appUrl, healthUrl] = await Promise.all([listen(app), listen(health)]);
    try {
      for (const path of ['/health/live', '/health/ready']) {
        // the app's port: no health answer, just the app (as for any route)
        const pub = await fetch(`${appUrl}${path}`);
        expect(pub.headers.get('content-type')).toMatch(/^text\/html/);
        expect(await pub.text()).toContain('<title>app</title>');
      }
      expect(await (await fetch(`${healthUrl}/health/live`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${healthUrl}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ok', checks: [{ name: 'web-root', status: 'up' }] });
      // the health port serves nothing else: not the app, not the API
      expect((await fetch(`${healthUrl}/`)).status).toBe(404);
      expect((await fetch(`${healthUrl}/config.json`)).status).toBe(404);
    } finally {
      await Promise.all([close(app), close(health)]);
    }
  });

  it('answers 503 with Retry-After when the gateway cannot be reached', async () => {
    const closedPort = await freePort();
    const app = createServer(
      createWebApp({
        config: {
          GATEWAY_URL: `http://127.0.0.1:${closedPort}`,
          WEB_ROOT: root,
          WEB_API_BASE: '/api/v1',
          AUTH_AUDIENCE: 'dvd-api',
          CITIZEN_ISSUER: 'http://127.0.0.1:3100/citizen',
          OFFICIAL_ISSUER: 'http://127.0.0.1:3100/official',
          WEB_CLIENT_ID: 'dvd-web',
          WEB_HSTS: false,
        },
        log: pino({ level: 'silent' }),
      }),
    );
    const url = await listen(app);
    try {
      const res = await fetch(`${url}/api/v1/documents`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('2');
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ status: 503, title: 'Service Unavailable' });
    } finally {
      await close(app);
    }
  });
});
