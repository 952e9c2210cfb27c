import 'reflect-metadata';
import { createServiceApp, loadConfig, runMain } from '@dvd/platform';
import { DevIdpModule } from './app.module';
import { DevIdpConfig, devIdpConfigSchema } from './dev-idp.config';
import { loadKeys } from './key-store';

/** Development only: never part of a production image. */
export async function createDevIdpApp(config: DevIdpConfig) {
  const keys = await loadKeys(config.DEV_IDP_DATA_DIR);
  return createServiceApp(DevIdpModule.register(config, keys), { jsonLimit: '16kb' });
}

if (require.main === module) {
  runMain('dev-idp', async () => {
    const config = loadConfig(devIdpConfigSchema);
    const app = await createDevIdpApp(config);
    await app.listen(config.DEV_IDP_PORT, config.BIND_HOST);
    return app;
  });
}
