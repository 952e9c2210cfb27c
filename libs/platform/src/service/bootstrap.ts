import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { DynamicModule, INestApplication, Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { Logger } from 'nestjs-pino';
import { z } from 'zod';
import { IdentityVerifier, bodyDigestMiddleware, identityMiddleware, verifyBodyDigest } from '../auth-context/identity.guard';
import { ConfigError, applyServerTimeouts, commonEnv, loadConfig } from '../config/config';
import { METRICS_REGISTRY } from '../health/health.controller';
import { httpRequestObserver } from '../health/metrics';
import { ShutdownState } from '../health/shutdown-state';
import { shutdownTracing } from '../telemetry/tracing';
import { IDENTITY_VERIFIER } from './platform.module';

export interface CreateAppOptions {
  /** Largest JSON body accepted (express `limit` syntax); 0 disables the JSON parser. */
  jsonLimit?: string | 0;
}

/** Counts requests in flight, so that a stopping service can wait for them (see `drainAndClose`). */
class InFlight {
  count = 0;
  draining = false;
  track(res: ServerResponse): void {
    this.count++;
    // a request that arrives on a kept-alive connection while draining is served, but
    // its connection is not kept: the client reconnects to another replica
    if (this.draining) res.setHeader('Connection', 'close');
    let done = false;
    res.once('close', () => {
      if (!done) this.count--;
      done = true;
    });
  }
}
const inFlight = new WeakMap<INestApplication, InFlight>();
type Bookkeeping = (req: IncomingMessage, res: ServerResponse) => void;
const bookkeeping = new WeakMap<INestApplication, Bookkeeping>();

/**
 * What the app does for every request before its routes: counts it in flight (the graceful
 * drain waits for it) and records its duration (RED metrics). For a request a service answers
 * before Express (the gateway's proxy), call it first.
 */
export function requestBookkeeping(app: INestApplication): Bookkeeping {
  const keep = bookkeeping.get(app);
  if (!keep) throw new Error('requestBookkeeping: the app was not made by createServiceApp');
  return keep;
}

/** Creates a service's Nest app with the platform's conventions. Used by main.ts and tests. */
export async function createServiceApp(module: DynamicModule, o: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  // a slow upload (100 MiB at 1 Mbit/s) must not hit Node's default of 5 minutes
  // and idle kept-alive connections outlive every client's pool (no ECONNRESET on reuse)
  applyServerTimeouts(
    app.getHttpServer() as Server,
    loadConfig(
      z.object({
        HTTP_REQUEST_TIMEOUT_MS: commonEnv.HTTP_REQUEST_TIMEOUT_MS,
        HTTP_KEEP_ALIVE_TIMEOUT_MS: commonEnv.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      }),
    ),
  );
  const tracker = new InFlight();
  inFlight.set(app, tracker);
  const observe = httpRequestObserver(app.get(METRICS_REGISTRY));
  const keep: Bookkeeping = (req, res) => {
    tracker.track(res);
    observe(req, res);
  };
  bookkeeping.set(app, keep);
  app.use((req: Request, res: Response, next: NextFunction) => {
    keep(req, res);
    next();
  });
  // PlatformModule.forService({ identity }) turns on signed identity on every path but health and metrics
  const verifier = app.get<IdentityVerifier | null>(IDENTITY_VERIFIER);
  if (verifier) {
    const log = new NestLogger('IdentityMiddleware');
    app.use(identityMiddleware(verifier, (reason) => log.log({ reason }, 'identity refused')));
  }
  if (o.jsonLimit !== 0)
    app.useBodyParser('json', { limit: o.jsonLimit ?? '1mb', type: ['application/json', 'application/*+json'], verify: verifyBodyDigest });
  if (verifier) app.use(bodyDigestMiddleware());
  return app;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A graceful stop (ADR 0013): readiness turns 503 and the server stops accepting
 * connections; in-flight requests finish (at most `graceMs`; idle kept-alive connections
 * are closed at once, busy ones after their answer); then the app closes, which stops the
 * outbox relay and the consumers (unacknowledged messages return to the queue) and closes
 * the database, object store and Redis clients.
 */
export async function drainAndClose(app: INestApplication, graceMs: number): Promise<{ unfinished: number }> {
  const tracker = inFlight.get(app);
  if (tracker) tracker.draining = true;
  try {
    app.get(ShutdownState, { strict: false }).draining = true;
  } catch {
    // an app without the platform module
  }
  const server = app.getHttpServer() as Server;
  server.close();
  const deadline = Date.now() + graceMs;
  while ((tracker?.count ?? 0) > 0 && Date.now() < deadline) {
    server.closeIdleConnections();
    await sleep(25);
  }
  const unfinished = tracker?.count ?? 0;
  server.closeAllConnections();
  await app.close();
  return { unfinished };
}

function installStopHandlers(name: string, app: INestApplication): void {
  const { SHUTDOWN_GRACE_MS: graceMs } = loadConfig(z.object({ SHUTDOWN_GRACE_MS: commonEnv.SHUTDOWN_GRACE_MS }));
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const line = (o: object) => process.stdout.write(`${JSON.stringify({ level: 'info', service: name, ...o })}\n`);
    line({ msg: 'stopping: draining in-flight requests', signal, graceMs });
    // whatever hangs in closing must not keep the process: the supervisor would SIGKILL it anyway
    setTimeout(() => process.exit(1), graceMs + 10_000).unref();
    drainAndClose(app, graceMs).then(
      async ({ unfinished }) => {
        await shutdownTracing(); // the spans still buffered go out before the process ends
        line({ msg: 'stopped', unfinished });
        process.exit(0);
      },
      (err: unknown) => {
        line({ msg: 'stop failed', errorName: (err as Error)?.name });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/**
 * Runs main(): a bad configuration stops the process with one line naming the variables;
 * SIGTERM/SIGINT stop the app gracefully (`drainAndClose`, bounded by SHUTDOWN_GRACE_MS).
 */
export function runMain(name: string, main: () => Promise<INestApplication | void>): void {
  main()
    .then((app) => {
      if (app) installStopHandlers(name, app);
    })
    .catch((err: unknown) => {
      if (err instanceof ConfigError) {
        process.stderr.write(`${name}: ${err.message}\n`);
      } else {
        const e = err as Error;
        process.stderr.write(
          `${JSON.stringify({ level: 'fatal', service: name, msg: 'startup failed', errorName: e?.name, error: e?.message })}\n`,
        );
      }
      process.exit(1);
    });
}

export interface ServiceMainOptions<C> {
  name: string;
  loadConfig: () => C;
  create: (config: C) => Promise<INestApplication>;
  port: (config: C) => number;
  host: (config: C) => string;
  /** Runs the service's migrations and returns; used by `main.js migrate` (Kubernetes Job, `nx run <app>:migrate`). */
  migrate?: () => Promise<void>;
}

/** The whole main.ts of a service: `node main.js` serves, `node main.js migrate` migrates and exits. */
export function serviceMain<C>(o: ServiceMainOptions<C>): void {
  runMain(o.name, async () => {
    if (process.argv[2] === 'migrate') {
      if (!o.migrate) throw new Error(`${o.name} has no migrations`);
      await o.migrate();
      return;
    }
    const config = o.loadConfig();
    const app = await o.create(config);
    await app.listen(o.port(config), o.host(config));
    return app;
  });
}
