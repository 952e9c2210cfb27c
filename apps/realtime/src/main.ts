import 'reflect-metadata';
import { createServiceApp, loadConfig, serviceMain } from '@dvd/platform';
import { RealtimeModule } from './app.module';
import { RealtimeConfig, realtimeConfigSchema } from './realtime.config';

export function createRealtimeApp(config: RealtimeConfig) {
  // GET only: no request body is ever read
  return createServiceApp(RealtimeModule.register(config), { jsonLimit: '1kb' });
}

if (require.main === module) {
  serviceMain({
    name: 'realtime',
    loadConfig: () => loadConfig(realtimeConfigSchema),
    create: createRealtimeApp,
    port: (c) => c.REALTIME_PORT,
    host: (c) => c.BIND_HOST,
  });
}
