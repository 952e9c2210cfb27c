import './tracing';
import 'reflect-metadata';
import { OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { buildOpenApiDocument } from '@dvd/contracts';
import { METRICS_REGISTRY, REDIS, createLogger, createServiceApp, runMain } from '@dvd/platform';
import Redis from 'ioredis';
import { GatewayModule } from './app.module';
import { JwtVerifier } from './auth/jwt-verifier';
import { GatewayConfig, loadGatewayConfig } from './gateway.config';
import { gatewayProxy } from './proxy/gateway-proxy';
import { RedisRateLimiter } from './rate-limit/rate-limiter';

export async function createGatewayApp(config: GatewayConfig) {
  // No body parser: requests stream through to the services untouched.
  const app = await createServiceApp(GatewayModule.register(config), { jsonLimit: 0 });
  const verifier = JwtVerifier.fromConfig(config);
  const log = createLogger('gateway', config.LOG_LEVEL);
  const limiter = new RedisRateLimiter(app.get<Redis>(REDIS), {
    citizen: config.RATE_LIMIT_CITIZEN_PER_MIN,
    official: config.RATE_LIMIT_OFFICIAL_PER_MIN,
    windowMs: 60_000,
  });
  app.use(gatewayProxy(config, verifier, limiter, log, app.get(METRICS_REGISTRY)));
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
