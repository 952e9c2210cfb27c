import 'reflect-metadata';
import { SwaggerModule } from '@nestjs/swagger';
import { createLogger, createServiceApp, loadConfig, runMain } from '@dvd/platform';
import { GatewayModule } from './app.module';
import { JwtVerifier } from './auth/jwt-verifier';
import { GatewayConfig, gatewayConfigSchema } from './gateway.config';
import { buildOpenApiDocument } from './openapi/openapi.document';
import { gatewayProxy } from './proxy/gateway-proxy';
import { UnlimitedRateLimiter } from './rate-limit/rate-limiter';

export async function createGatewayApp(config: GatewayConfig) {
  // No body parser: requests stream through to the services untouched.
  const app = await createServiceApp(GatewayModule.register(config), { jsonLimit: 0 });
  const verifier = new JwtVerifier(
    [
      { issuer: config.CITIZEN_ISSUER, jwksUri: config.CITIZEN_JWKS_URI, kind: 'citizen' },
      { issuer: config.OFFICIAL_ISSUER, jwksUri: config.OFFICIAL_JWKS_URI, kind: 'official' },
    ],
    config.AUTH_AUDIENCE,
    config.AUTH_CLOCK_TOLERANCE_S,
    config.JWKS_COOLDOWN_MS,
  );
  const log = createLogger('gateway', config.LOG_LEVEL);
  app.use(gatewayProxy(config, verifier, new UnlimitedRateLimiter(), log));
  SwaggerModule.setup('api/docs', app, buildOpenApiDocument(), { jsonDocumentUrl: 'api/docs-json' });
  return app;
}

if (require.main === module) {
  runMain('gateway', async () => {
    const config = loadConfig(gatewayConfigSchema);
    const app = await createGatewayApp(config);
    await app.listen(config.GATEWAY_PORT, config.BIND_HOST);
    return app;
  });
}
