/**
 * The browser app's server: `node dist/apps/web-server/src/main.js` (the launcher starts it
 * after the gateway). Serves dist/web/, /config.json and forwards /api/ to the gateway.
 */
import { createServer, type Server } from 'node:http';
import { ConfigError, applyServerTimeouts, createLogger, loadConfig } from '@dvd/platform/core';
import { createHealthApp, createWebApp } from './web-app';
import { webServerConfigSchema } from './web-server.config';

export { createHealthApp, createWebApp } from './web-app';

function main(): void {
  let config;
  try {
    config = loadConfig(webServerConfigSchema);
  } catch (err) {
    process.stderr.write(`web-server: ${err instanceof ConfigError ? err.message : String(err)}\n`);
    process.exit(1);
  }
  const log = createLogger('web-server', config.LOG_LEVEL);
  const server: Server = createServer(createWebApp({ config, log }));
  // uploads stream through to the gateway: as long as the platform lets a request take (HTTP_REQUEST_TIMEOUT_MS)
  // idle kept-alive connections outlive the edge's pool (HTTP_KEEP_ALIVE_TIMEOUT_MS)
  applyServerTimeouts(server, config);
  // the health endpoints on a port of their own when WEB_HEALTH_PORT is set (not behind the Ingress)
  const health: Server | undefined = config.WEB_HEALTH_PORT === undefined ? undefined : createServer(createHealthApp({ config }));
  for (const s of [server, health]) {
    s?.on('error', (err: NodeJS.ErrnoException) => {
      log.fatal({ errorName: err.name, code: err.code }, 'web server failed');
      process.exit(1);
    });
  }
  server.listen(config.WEB_PORT, config.BIND_HOST, () => {
    log.info({ port: config.WEB_PORT, host: config.BIND_HOST, root: config.WEB_ROOT }, 'web server listening');
  });
  health?.listen(config.WEB_HEALTH_PORT, config.BIND_HOST, () => {
    log.info({ port: config.WEB_HEALTH_PORT, host: config.BIND_HOST }, 'health endpoints listening');
  });

  const graceMs = config.SHUTDOWN_GRACE_MS;
  const stop = () => {
    log.info({ graceMs }, 'stopping: in-flight requests may finish');
    health?.close();
    server.close(() => {
      log.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), graceMs).unref();
    setTimeout(() => process.exit(1), graceMs + 5_000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) main();
