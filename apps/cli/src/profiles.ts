import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

export const ROLES = ['citizen', 'official', 'admin', 'platform-admin'] as const;
export type Role = (typeof ROLES)[number];

/** How a profile gets its bearer token: minted per call by the development IdP, or a fixed token. */
const ProfileSchema = z
  .object({
    gateway: z.string().url(),
    role: z.enum(ROLES),
    sub: z.string().min(1).max(200).optional(),
    authority: z.string().max(50).optional(),
    devIdp: z.string().url().optional(),
    token: z.string().max(20_000).optional(),
  })
  .strict();
export type Profile = z.infer<typeof ProfileSchema>;

const ConfigSchema = z.object({ current: z.string().optional(), profiles: z.record(ProfileSchema) }).strict();
export type Config = z.infer<typeof ConfigSchema>;

/** `$DVD_CONFIG_DIR`, else `$XDG_CONFIG_HOME/dvd`, else `~/.config/dvd`. */
export function configDir(override?: string): string {
  return override ?? process.env.DVD_CONFIG_DIR ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'dvd');
}

export async function loadConfig(dir: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(join(dir, 'config.json'), 'utf8');
  } catch {
    return { profiles: {} };
  }
  const parsed = ConfigSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new UsageError(`${join(dir, 'config.json')} is not a dvd configuration`);
  return parsed.data;
}

/** Written with mode 0600 (a profile may hold a token). */
export async function saveConfig(dir: string, config: Config): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'config.json');
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

export function pickProfile(config: Config, name?: string): { name: string; profile: Profile } {
  const chosen = name ?? process.env.DVD_PROFILE ?? config.current;
  if (!chosen) throw new UsageError('no profile: run `dvd login` first (or pass --profile)');
  const profile = config.profiles[chosen];
  if (!profile)
    throw new UsageError(
      `no profile "${chosen}": run \`dvd login --profile ${chosen}\` (known: ${Object.keys(config.profiles).join(', ') || 'none'})`,
    );
  return { name: chosen, profile };
}

/** A bearer token for the profile: the fixed one, or a fresh one from the development IdP. */
export function tokenSource(p: Profile): () => Promise<string> {
  if (p.token) {
    const t = p.token;
    return async () => t;
  }
  if (!p.devIdp) throw new UsageError('the profile has neither a token nor a development IdP');
  let cached: { token: string; until: number } | undefined;
  return async () => {
    if (cached && cached.until > Date.now()) return cached.token;
    const body: Record<string, unknown> = { role: p.role, ttlSeconds: 900 };
    if (p.sub) body.sub = p.sub;
    if (p.role !== 'citizen') body.authority = p.authority;
    let res: Response;
    try {
      res = await fetch(`${p.devIdp!.replace(/\/+$/, '')}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (err) {
      throw new AuthError(`the development IdP at ${p.devIdp} does not answer`, { cause: err });
    }
    if (!res.ok) throw new AuthError(`the development IdP refused a token (${res.status})`);
    const json = (await res.json()) as { access_token: string; expires_in: number };
    cached = { token: json.access_token, until: Date.now() + (json.expires_in - 60) * 1000 };
    return json.access_token;
  };
}

export class UsageError extends Error {}
export class AuthError extends Error {}
