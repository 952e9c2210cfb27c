import './tracing';
import 'reflect-metadata';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { buildOpenApiDocument } from '@dvd/contracts';
import { METRICS_REGISTRY, REDIS, ShutdownState, createLogger, createServiceApp, requestBookkeeping, runMain } from '@dvd/platform';
import Redis from 'ioredis';
import { GatewayModule } from './app.module';
import { JwtVerifier } from './auth/jwt-verifier';
import { EventStreamProxy } from './events/event-stream-proxy';
import { EventTickets } from './events/event-tickets';
import { GatewayConfig, loadGatewayConfig } from './gateway.config';
import { gatewayProxy, isEventStreamRequest } from './proxy/gateway-proxy';
import { RedisRateLimiter } from './rate-limit/rate-limiter';

export async function createGatewayApp(config: GatewayConfig) {
  // No body parser: requests stream through to the services untouched.
  const app = await createServiceApp(GatewayModule.register(config), { jsonLimit: 0 });
  const verifier = JwtVerifier.fromConfig(config);
  const log = createLogger('gateway', config.LOG_LEVEL);
  const redis = app.get<Redis>(REDIS);
  const limiters = {
    requests: new RedisRateLimiter(redis, {
      citizen: config.RATE_LIMIT_CITIZEN_PER_MIN,
      official: config.RATE_LIMIT_OFFICIAL_PER_MIN,
      windowMs: 60_000,
    }),
    events: new RedisRateLimiter(
      redis,
      { citizen: config.RATE_LIMIT_EVENTS_PER_MIN, official: config.RATE_LIMIT_EVENTS_PER_MIN, windowMs: 60_000 },
      'ratelimit-events',
    ),
  };
  const stream = new EventStreamProxy(config.REALTIME_STREAM_URL, config.REALTIME_STREAMS_PER_CONNECTION, log);
  const shutdown = app.get(ShutdownState);
  // a draining gateway ends its event streams at once: the clients resume on another replica
  shutdown.onDrain(() => stream.closeAll());
  const handlers = gatewayProxy(
    config,
    verifier,
    limiters,
    log,
    { tickets: new EventTickets(redis), stream },
    app.get(METRICS_REGISTRY),
    () => shutdown.draining,
  );
  // The gateway's own routes are answered before Express: an open event stream holds no
  // framework objects (ADR 0021), and a proxied request pays for no framework pass
  // (docs/performance.md). Express serves the rest: docs, health, metrics.
  const server = app.getHttpServer() as Server;
  const [express] = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  const bookkeeping = requestBookkeeping(app);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (isEventStreamRequest(req)) return void handlers.eventStream(req, res);
    const path = handlers.ownPath(req);
    if (path === null) return express(req, res);
    bookkeeping(req, res);
    handlers.answer(req, res, path);
  });
  // The document is generated from libs/contracts (OpenAPI 3.1; @nestjs/swagger's type says 3.0).
  const document = buildOpenApiDocument() as unknown as OpenAPIObject;
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
  return app;
}

if (require.main === module) {
  runMain('gateway', async () => {
    const config = loadGatewayConfig();
    const app = await createGatewayApp(config);
    await app.listen(config.GATEWAY_PORT, config.BIND_HOST);
    return app;
  });
}
