import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JWK, KeyLike, exportJWK, generateKeyPair, importJWK } from 'jose';

export type IssuerName = 'citizen' | 'official';

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyLike;
  publicJwk: JWK;
}

async function newKey(issuer: IssuerName): Promise<{ key: SigningKey; privateJwk: JWK }> {
  // citizen tokens are RS256, official tokens ES256: both algorithm families exercised
  const alg = issuer === 'citizen' ? 'RS256' : 'ES256';
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${issuer}-${Date.now().toString(36)}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg };
  return { key: { kid, alg, privateKey, publicJwk }, privateJwk };
}

/** Signing keys of the two development issuers, optionally persisted in a data folder. */
export async function loadKeys(dataDir?: string): Promise<Record<IssuerName, SigningKey>> {
  const out = {} as Record<IssuerName, SigningKey>;
  for (const issuer of ['citizen', 'official'] as const) {
    const file = dataDir ? join(dataDir, `${issuer}-key.json`) : undefined;
    if (file) {
      try {
        const jwk = JSON.parse(await readFile(file, 'utf8')) as JWK & { kid: string; alg: 'RS256' | 'ES256' };
        const privateKey = (await importJWK(jwk, jwk.alg)) as KeyLike;
        const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
        out[issuer] = { kid: jwk.kid, alg: jwk.alg, privateKey, publicJwk: { ...pub, use: 'sig' } };
        continue;
      } catch {
        // no stored key yet: make one
      }
    }
    const { key, privateJwk } = await newKey(issuer);
    if (file && dataDir) {
      await mkdir(dataDir, { recursive: true });
      await writeFile(file, JSON.stringify(privateJwk), { mode: 0o600 });
    }
    out[issuer] = key;
  }
  return out;
}
