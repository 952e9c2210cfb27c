import { resolve } from 'node:path';
import { z } from 'zod';
import { commonEnv, port, url } from '@dvd/platform/core';

/** dist/apps/web-server/src/ → dist/web/ (what `vite build` writes). */
const DEFAULT_WEB_ROOT = resolve(__dirname, '..', '..', '..', 'web');

export const webServerConfigSchema = z.object({
  ...commonEnv,
  WEB_PORT: port(3200),
  /**
   * A port of its own for /health/live and /health/ready (probes; never behind the Ingress).
   * Unset: they are served on WEB_PORT, beside the app.
   */
  WEB_HEALTH_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  BIND_HOST: z.string().default('127.0.0.1'),
  /** Where `/api/` is forwarded (the gateway; the path is kept). */
  GATEWAY_URL: url(['http', 'https'], 'http://127.0.0.1:3000'),
  /** The built app (index.html, assets/). */
  WEB_ROOT: z.string().default(DEFAULT_WEB_ROOT),
  /** What /config.json tells the app: */
  WEB_API_BASE: z.string().default('/api/v1'),
  AUTH_AUDIENCE: z.string().default('dvd-api'),
  CITIZEN_ISSUER: url(['http', 'https'], 'http://127.0.0.1:3100/citizen'),
  OFFICIAL_ISSUER: url(['http', 'https'], 'http://127.0.0.1:3100/official'),
  WEB_CLIENT_ID: z.string().min(1).default('dvd-web'),
  /** Send Strict-Transport-Security (only when the app is served over https, e.g. behind a TLS proxy). */
  WEB_HSTS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});
export type WebServerConfig = z.output<typeof webServerConfigSchema>;
