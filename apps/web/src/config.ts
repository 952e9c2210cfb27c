/**
 * Runtime configuration: the same build runs against any deployment, so the app reads
 * `/config.json` (served by apps/web-server from its environment) before anything else.
 */
export interface AppConfig {
  /** The API's base, absolute or relative to this origin (default `/api/v1`: same origin). */
  apiBase: string;
  /** The `resource` (audience) asked for at the IdP, so the access token is a JWT for the gateway. */
  audience: string;
  issuers: { citizen: string; official: string };
  clientId: string;
}

export class ConfigError extends Error {}

function str(v: unknown, name: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new ConfigError(`config.json: ${name} must be a non-empty string`);
  return v.trim();
}

function issuerUrl(v: unknown, name: string): string {
  const s = str(v, name);
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new ConfigError(`config.json: ${name} must be an absolute URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new ConfigError(`config.json: ${name} must be an http(s) URL`);
  return s.replace(/\/+$/, '');
}

/** Checks the shape of config.json (pure: unit-tested). */
export function parseConfig(json: unknown): AppConfig {
  if (!json || typeof json !== 'object') throw new ConfigError('config.json must be a JSON object');
  const c = json as Record<string, unknown>;
  const issuers = (c.issuers ?? {}) as Record<string, unknown>;
  return {
    apiBase: str(c.apiBase ?? '/api/v1', 'apiBase').replace(/\/+$/, ''),
    audience: str(c.audience ?? 'dvd-api', 'audience'),
    issuers: { citizen: issuerUrl(issuers.citizen, 'issuers.citizen'), official: issuerUrl(issuers.official, 'issuers.official') },
    clientId: str(c.clientId ?? 'dvd-web', 'clientId'),
  };
}

/** The API base as an absolute URL (the SDK builds request URLs with `new URL`). */
export function absoluteApiBase(config: AppConfig, origin: string): string {
  return new URL(config.apiBase, origin).toString().replace(/\/+$/, '');
}

export async function loadConfig(): Promise<AppConfig> {
  const res = await fetch('/config.json', { cache: 'no-store', headers: { accept: 'application/json' } });
  if (!res.ok) throw new ConfigError(`config.json: HTTP ${res.status}`);
  return parseConfig(await res.json());
}
