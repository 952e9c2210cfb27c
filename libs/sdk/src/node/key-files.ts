import { chmod, readFile, writeFile } from 'node:fs/promises';
import type { JWK } from 'jose';
import { jwkFileText, parseJwk } from '../keys';

/** Writes a private JWK readable by its owner only (mode 0600; refuses to overwrite). */
export async function writePrivateJwk(path: string, jwk: JWK): Promise<void> {
  await writeFile(path, jwkFileText(jwk), { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
}

export async function writePublicJwk(path: string, jwk: JWK): Promise<void> {
  await writeFile(path, jwkFileText(jwk), { mode: 0o644 });
}

/** Reads a JWK file (at most 64 KiB). */
export async function readJwkFile(path: string): Promise<JWK> {
  const text = await readFile(path, 'utf8');
  if (text.length > 64 * 1024) throw new Error(`${path} is too large for a JWK`);
  return parseJwk(text);
}
