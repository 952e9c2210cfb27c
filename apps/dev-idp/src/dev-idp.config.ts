import { z } from 'zod';
import { commonEnv, port } from '@dvd/platform';

export const devIdpConfigSchema = z.object({
  ...commonEnv,
  DEV_IDP_PORT: port(3100),
  BIND_HOST: z.string().default('127.0.0.1'),
  /** Public base URL; issuers are `<base>/citizen` and `<base>/official`. */
  DEV_IDP_BASE_URL: z.string().url().optional(),
  /** Where the signing keys are kept so tokens survive a restart; unset → in memory only. */
  DEV_IDP_DATA_DIR: z.string().optional(),
  AUTH_AUDIENCE: z.string().default('dvd-api'),
});
export type DevIdpConfig = z.output<typeof devIdpConfigSchema>;
