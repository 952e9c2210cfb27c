import 'reflect-metadata';
import { createServiceApp, loadConfig, runMain } from '@dvd/platform';
import { DevIdpModule } from './app.module';
import { DevIdpConfig, devIdpConfigSchema } from './dev-idp.config';
import { loadCookieSecret, loadKeys } from './key-store';
import { mountProviders } from './oidc/mount';
import { createIssuerProviders, webOrigins } from './oidc/providers';

/**
 * Development only: never part of a production image. Two OpenID providers (citizen,
 * official) with an account picker for the browser app, and `POST /token` for scripts.
 */
export async function createDevIdpApp(config: DevIdpConfig) {
  const keys = await loadKeys(config.DEV_IDP_DATA_DIR);
  const providers = createIssuerProviders(config, keys, await loadCookieSecret(config.DEV_IDP_DATA_DIR));
  const app = await createServiceApp(DevIdpModule.register(config, keys, providers), { jsonLimit: '16kb' });
  mountProviders(app, providers, { audience: config.AUTH_AUDIENCE, webOrigins: webOrigins(config) });
  return app;
}

if (require.main === module) {
  runMain('dev-idp', async () => {
    const config = loadConfig(devIdpConfigSchema);
    const app = await createDevIdpApp(config);
    await app.listen(config.DEV_IDP_PORT, config.BIND_HOST);
    return app;
  });
}
