import { z } from 'zod';
import { commonEnv, port } from '@dvd/platform';

/** A comma-separated list of absolute http(s) URLs without fragment. */
const redirectUris = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) =>
      v
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(
          z.string().refine((u) => {
            const parsed = URL.parse(u);
            return !!parsed && (parsed.protocol === 'http:' || parsed.protocol === 'https:') && !parsed.hash;
          }, 'must be absolute http(s) URLs without fragment'),
        )
        .min(1),
    );

export const devIdpConfigSchema = z.object({
  ...commonEnv,
  DEV_IDP_PORT: port(3100),
  BIND_HOST: z.string().default('127.0.0.1'),
  /** Public base URL (no path); issuers are `<base>/citizen` and `<base>/official`. Unset → http://127.0.0.1:<port>. */
  DEV_IDP_BASE_URL: z
    .string()
    .url()
    .refine((u) => new URL(u).pathname.replace(/\/+$/, '') === '', 'must have no path')
    .optional(),
  /** Where the signing keys and the cookie secret are kept so they survive a restart; unset → in memory only. */
  DEV_IDP_DATA_DIR: z.string().optional(),
  AUTH_AUDIENCE: z.string().default('dvd-api'),
  /** Redirect URIs of the browser app (client `dvd-web`); their origins may call the token endpoint (CORS). */
  DEV_IDP_WEB_REDIRECT_URIS: redirectUris('http://127.0.0.1:3200/callback,http://localhost:3200/callback'),
});
export type DevIdpConfig = z.output<typeof devIdpConfigSchema>;

/** The base URL the issuers live under, without a trailing slash. */
export function baseUrlOf(config: DevIdpConfig): string {
  return (config.DEV_IDP_BASE_URL ?? `http://127.0.0.1:${config.DEV_IDP_PORT}`).replace(/\/+$/, '');
}
