import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JWK, KeyLike, exportJWK, generateKeyPair, importJWK } from 'jose';

export type IssuerName = 'citizen' | 'official';
export const ISSUERS: readonly IssuerName[] = ['citizen', 'official'];

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyLike;
  /** The private key as a JWK (kid, alg, use), for the OpenID provider's key store. */
  privateJwk: JWK & { kid: string; alg: 'RS256' | 'ES256'; use: 'sig' };
  publicJwk: JWK;
}

type StoredJwk = JWK & { kid: string; alg: 'RS256' | 'ES256' };

async function newKey(issuer: IssuerName): Promise<StoredJwk> {
  // citizen tokens are RS256, official tokens ES256: both algorithm families exercised
  const alg = issuer === 'citizen' ? 'RS256' : 'ES256';
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${issuer}-${Date.now().toString(36)}`;
  return { ...(await exportJWK(privateKey)), kid, alg };
}

async function fromJwk(jwk: StoredJwk): Promise<SigningKey> {
  const privateKey = (await importJWK(jwk, jwk.alg)) as KeyLike;
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, use: _use, ...pub } = jwk;
  return {
    kid: jwk.kid,
    alg: jwk.alg,
    privateKey,
    privateJwk: { ...jwk, use: 'sig' },
    publicJwk: { ...pub, use: 'sig' },
  };
}

/** Signing keys of the two development issuers, optionally persisted in a data folder. */
export async function loadKeys(dataDir?: string): Promise<Record<IssuerName, SigningKey>> {
  const out = {} as Record<IssuerName, SigningKey>;
  for (const issuer of ISSUERS) {
    const file = dataDir ? join(dataDir, `${issuer}-key.json`) : undefined;
    if (file) {
      try {
        out[issuer] = await fromJwk(JSON.parse(await readFile(file, 'utf8')) as StoredJwk);
        continue;
      } catch {
        // no stored key yet: make one
      }
    }
    const jwk = await newKey(issuer);
    if (file && dataDir) {
      await mkdir(dataDir, { recursive: true });
      await writeFile(file, JSON.stringify(jwk), { mode: 0o600 });
    }
    out[issuer] = await fromJwk(jwk);
  }
  return out;
}

/**
 * The secret the OpenID providers sign their cookies with: kept in the data folder when
 * there is one (browser sessions then survive a restart of the process, not of its state),
 * else new per start.
 */
export async function loadCookieSecret(dataDir?: string): Promise<string> {
  const file = dataDir ? join(dataDir, 'cookie-secret') : undefined;
  if (file) {
    try {
      const stored = (await readFile(file, 'utf8')).trim();
      if (stored.length >= 32) return stored;
    } catch {
      // none yet
    }
  }
  const secret = randomBytes(32).toString('base64url');
  if (file && dataDir) {
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, secret, { mode: 0o600 });
  }
  return secret;
}
