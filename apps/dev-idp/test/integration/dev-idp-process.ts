import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pollUntil } from '@dvd/testing';

export const ROOT = resolve(__dirname, '../../../..');

export interface AppProcess {
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Runs a compiled app (`dist/apps/<app>/src/main.js`) with the pinned Node, as `npm start`
 * does, until its /health/live answers. The dev IdP must run this way in tests: oidc-provider
 * is an ES module, which jest's CommonJS module system cannot load.
 */
export async function startApp(app: string, port: number, env: Record<string, string>): Promise<AppProcess> {
  const main = join(ROOT, 'dist', 'apps', app, 'src', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first (npm test does)`);
  const child: ChildProcess = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', BIND_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await Promise.race([
      pollUntil(async () => (await fetch(`http://127.0.0.1:${port}/health/live`)).ok, { timeoutMs: 60_000, what: `${app} to listen` }),
      exited.then(() => {
        throw new Error(`${app} exited before it was ready:\n${out.slice(-4000)}`);
      }),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { output: () => out, stop };
}

export interface Echoed {
  url: string;
  headers: IncomingMessage['headers'];
}

/** Stands in for the services behind the gateway: answers every request with what arrived. */
export async function echoUpstream(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url ?? '', headers: req.headers } satisfies Echoed));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/**
 * A browser's part of the flow: follows nothing by itself (each redirect is a step the
 * test looks at) and keeps cookies by name, sending each to the paths it was set for.
 */
export class Browser {
  private readonly cookies = new Map<string, { value: string; path: string }>();

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const path = new URL(url).pathname;
    const cookie = [...this.cookies]
      .filter(([, c]) => path.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
    const headers = new Headers(init.headers);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((p) => p.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const attr = (n: string) => attributes.find((a) => a.toLowerCase().startsWith(`${n}=`))?.slice(n.length + 1);
      const expires = attr('expires');
      if (!value || (expires && Date.parse(expires) <= Date.now())) this.cookies.delete(name);
      else this.cookies.set(name, { value, path: attr('path') ?? '/' });
    }
    return res;
  }

  get(url: string): Promise<Response> {
    return this.request(url);
  }

  post(url: string, form: Record<string, string>): Promise<Response> {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }
}

/** Where a redirect points, resolved against the request URL. */
export function location(res: Response, requestUrl: string): string {
  const to = res.headers.get('location');
  if (!to) throw new Error(`expected a redirect, got ${res.status}`);
  return new URL(to, requestUrl).href;
}
