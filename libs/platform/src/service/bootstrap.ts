import { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { identityMiddleware } from '../auth-context/identity.guard';
import { ConfigError } from '../config/config';
import { METRICS_REGISTRY } from '../health/health.controller';
import { httpMetricsMiddleware } from '../health/metrics';

export interface CreateAppOptions {
  /** Largest JSON body accepted (express `limit` syntax); 0 disables the JSON parser. */
  jsonLimit?: string | 0;
  /** Require gateway-signed identity on every path but health and metrics. */
  internalAuthSecret?: string;
}

/** Creates a service's Nest app with the platform's conventions. Used by main.ts and tests. */
export async function createServiceApp(module: DynamicModule, o: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.use(httpMetricsMiddleware(app.get(METRICS_REGISTRY)));
  if (o.internalAuthSecret) app.use(identityMiddleware(o.internalAuthSecret));
  if (o.jsonLimit !== 0) app.useBodyParser('json', { limit: o.jsonLimit ?? '1mb', type: ['application/json', 'application/*+json'] });
  app.enableShutdownHooks();
  return app;
}

/**
 * Runs main(): a bad configuration stops the process with one line naming the variables;
 * SIGTERM/SIGINT close the app gracefully (Nest shutdown hooks drain consumers).
 */
export function runMain(name: string, main: () => Promise<INestApplication | void>): void {
  main().catch((err: unknown) => {
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
