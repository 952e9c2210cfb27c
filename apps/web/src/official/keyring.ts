/**
 * The authority's private keys, held in this tab's memory only as non-extractable
 * CryptoKeys: imported from the JWK file the official picks, never stored, never sent.
 * Gone on logout or reload.
 */
import { importPrivateKey, parseJwk, DvdCryptoError } from '@dvd/sdk';
import { useSyncExternalStore } from 'react';

export interface LoadedKey {
  kid: string;
  alg: string;
  key: CryptoKey;
}

let keys: ReadonlyMap<string, LoadedKey> = new Map();
let ring: ReadonlyMap<string, CryptoKey> = new Map();
const listeners = new Set<() => void>();

function publish(next: Map<string, LoadedKey>) {
  keys = next;
  ring = new Map([...next].map(([kid, k]) => [kid, k.key]));
  for (const l of listeners) l();
}

export async function importKeyFile(text: string): Promise<LoadedKey> {
  const jwk = parseJwk(text);
  if (typeof jwk.d !== 'string') throw new DvdCryptoError('this key file holds a public key only: it cannot decrypt');
  if (!jwk.kid) throw new DvdCryptoError('the key file has no kid');
  const key = (await importPrivateKey(jwk, { extractable: false })) as CryptoKey;
  const loaded: LoadedKey = { kid: jwk.kid, alg: jwk.alg ?? (jwk.kty === 'RSA' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW'), key };
  publish(new Map([...keys, [loaded.kid, loaded]]));
  return loaded;
}

export function forgetKey(kid: string): void {
  const next = new Map(keys);
  next.delete(kid);
  publish(next);
}

export function forgetAllKeys(): void {
  if (keys.size > 0) publish(new Map());
}

let bound: { subscribe: (l: () => void) => () => void } | null = null;

/** Forgets every key when the session ends (logout, expiry); bound once per Auth. */
export function keepKeysWithSession(auth: { subscribe: (l: () => void) => () => void; getState: () => { status: string } }): void {
  if (bound === auth) return;
  bound = auth;
  auth.subscribe(() => {
    if (auth.getState().status !== 'authenticated') forgetAllKeys();
  });
}

const subscribe = (l: () => void) => {
  listeners.add(l);
  return () => listeners.delete(l);
};

export function useLoadedKeys(): ReadonlyMap<string, LoadedKey> {
  return useSyncExternalStore(subscribe, () => keys);
}

/** kid → CryptoKey, for decrypting (a new object whenever a key is added or removed). */
export function useKeyRing(): ReadonlyMap<string, CryptoKey> {
  return useSyncExternalStore(subscribe, () => ring);
}
