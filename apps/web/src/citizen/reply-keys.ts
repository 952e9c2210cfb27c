/**
 * The citizen's reply keys in IndexedDB. Officials encrypt their replies to the public half,
 * which travels in the upload's metadata (`replyKey`); the private half is a non-extractable
 * Web Crypto key: IndexedDB stores the CryptoKey object itself (structured clone), so the
 * key material can be used by this origin but never read out — not by the app, not by an
 * injected script. A backup is the one exception: it is made from a fresh extractable pair,
 * downloaded once as a JWK file, and kept here only as a non-extractable import.
 *
 * Keys are stored per person (issuer + sub) and kept after a newer one is made: replies to
 * older documents are encrypted to the key that was current when they were sent.
 */
import { generateReplyKeyPair, importPrivateKey, parseJwk, publicPart, DvdCryptoError, type PrivateJwk, type PublicJwk } from '@dvd/sdk';

const DB_NAME = 'dvd-web';
const DB_VERSION = 1;
const STORE = 'replyKeys';

export interface ReplyKeyRecord {
  kid: string;
  /** `${issuer}|${sub}`: whose key it is. */
  owner: string;
  publicJwk: PublicJwk;
  privateKey: CryptoKey;
  createdAt: string;
  /** Whether a backup file of this key was made (or it was restored from one). */
  backedUp: boolean;
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(STORE)) {
        const store = db.createObjectStore(STORE, { keyPath: 'kid' });
        store.createIndex('owner', 'owner', { unique: false });
      }
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB is not available'));
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
  });
}

async function withStore<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? req.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

export const ownerOf = (issuer: string, sub: string) => `${issuer}|${sub}`;

/** The person's reply keys, newest first. */
export async function listReplyKeys(owner: string): Promise<ReplyKeyRecord[]> {
  const all = await withStore<ReplyKeyRecord[]>('readonly', (s) => s.index('owner').getAll(owner) as IDBRequest<ReplyKeyRecord[]>);
  return all.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

async function put(record: ReplyKeyRecord): Promise<void> {
  await withStore('readwrite', (s) => s.put(record));
}

/** The newest reply key; a non-extractable one is made on first use. */
export async function currentReplyKey(owner: string): Promise<ReplyKeyRecord> {
  const [newest] = await listReplyKeys(owner);
  if (newest) return newest;
  const pair = await generateReplyKeyPair({ extractable: false });
  const record: ReplyKeyRecord = {
    kid: pair.kid,
    owner,
    publicJwk: pair.publicJwk,
    privateKey: pair.privateKey as CryptoKey,
    createdAt: new Date().toISOString(),
    backedUp: false,
  };
  await put(record);
  return record;
}

/**
 * A new reply key made for a backup: the pair is generated extractable once, its private
 * JWK returned for the download, and stored here as a non-extractable import. It becomes
 * the current key (for the next uploads).
 */
export async function createBackupKey(owner: string): Promise<{ record: ReplyKeyRecord; privateJwk: PrivateJwk }> {
  const pair = await generateReplyKeyPair({ extractable: true });
  if (!pair.privateJwk) throw new DvdCryptoError('the key pair could not be exported');
  const privateKey = (await importPrivateKey(pair.privateJwk, { extractable: false })) as CryptoKey;
  const record: ReplyKeyRecord = {
    kid: pair.kid,
    owner,
    publicJwk: pair.publicJwk,
    privateKey,
    createdAt: new Date().toISOString(),
    backedUp: true,
  };
  await put(record);
  return { record, privateJwk: pair.privateJwk };
}

/** Restores a backup file (a private JWK): stored non-extractable; it becomes the current key. */
export async function restoreBackup(owner: string, fileText: string): Promise<ReplyKeyRecord> {
  const jwk = parseJwk(fileText);
  if (!jwk.kid) throw new DvdCryptoError('the key file has no kid');
  const privateKey = (await importPrivateKey(jwk, { extractable: false })) as CryptoKey;
  const record: ReplyKeyRecord = {
    kid: jwk.kid,
    owner,
    publicJwk: { ...publicPart(jwk), kid: jwk.kid, alg: jwk.alg ?? 'ECDH-ES+A256KW', use: 'enc' },
    privateKey,
    createdAt: new Date().toISOString(),
    backedUp: true,
  };
  await put(record);
  return record;
}

export async function keyRingOf(owner: string): Promise<Map<string, CryptoKey>> {
  return new Map((await listReplyKeys(owner)).map((r) => [r.kid, r.privateKey]));
}
