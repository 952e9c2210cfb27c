import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * Envelope encryption for small secrets kept at rest (e.g. an authority's webhook
 * secrets): AES-256-GCM with a random 96-bit IV and a caller-given context (the owner's
 * id) as additional authenticated data, so a sealed value copied to another row does not
 * open. Format, all parts base64url: `v1.<kid>.<iv>.<ciphertext>.<tag>`.
 *
 * The keyring comes from a mounted secret, `kid:base64key[,kid:base64key…]` (32-byte
 * keys): the first key seals, every key opens. Rotation: put the new key first and keep
 * the old one, let the owner re-seal (see `isCurrent`), then remove the old key.
 */
export class SecretBox {
  private readonly keys: ReadonlyMap<string, Buffer>;
  readonly primaryKid: string;

  constructor(keyring: string) {
    const parsed = parseSecretKeyring(keyring);
    this.keys = new Map(parsed.map((k) => [k.kid, k.key]));
    this.primaryKid = parsed[0].kid;
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.primaryKid)!, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', this.primaryKid, iv, ciphertext, cipher.getAuthTag()]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** The plaintext, or a SecretBoxError (unknown key, wrong context, tampered value) naming no value. */
  open(sealed: string, context: string): string {
    const parts = parseSealed(sealed);
    if (!parts) throw new SecretBoxError('not a sealed secret');
    const key = this.keys.get(parts.kid);
    if (!key) throw new SecretBoxError(`no key "${parts.kid}" in the keyring`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, parts.iv);
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(parts.tag);
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('sealed secret does not open (wrong key, context or tampered)');
    }
  }

  /** Whether a sealed value uses the current (first) key; anything else should be re-sealed. */
  isCurrent(sealed: string): boolean {
    return parseSealed(sealed)?.kid === this.primaryKid;
  }

  static isSealed(value: string): boolean {
    return parseSealed(value) !== null;
  }
}

export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

const KID = /^[A-Za-z0-9_-]{1,32}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

function parseSealed(v: string): { kid: string; iv: Buffer; ciphertext: Buffer; tag: Buffer } | null {
  const p = v.split('.');
  if (p.length !== 5 || p[0] !== 'v1' || !KID.test(p[1]) || !p.slice(2).every((x) => B64URL.test(x))) return null;
  const [iv, ciphertext, tag] = p.slice(2).map((x) => Buffer.from(x, 'base64url'));
  if (iv.length !== 12 || tag.length !== 16) return null;
  return { kid: p[1], iv, ciphertext, tag };
}

/** Parses `kid:base64key[,kid:base64key…]`; throws (naming no key material) when malformed. */
export function parseSecretKeyring(spec: string): Array<{ kid: string; key: Buffer }> {
  const entries = spec
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new SecretBoxError('the keyring is empty');
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    const at = entry.indexOf(':');
    const kid = entry.slice(0, at);
    const material = entry.slice(at + 1);
    if (at < 1 || !KID.test(kid)) throw new SecretBoxError(`key ${i + 1}: kid must match [A-Za-z0-9_-]{1,32}`);
    if (seen.has(kid)) throw new SecretBoxError(`key ${i + 1}: kid "${kid}" appears twice`);
    seen.add(kid);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(material)) throw new SecretBoxError(`key "${kid}" is not base64`);
    const key = Buffer.from(material.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length !== 32) throw new SecretBoxError(`key "${kid}" must be 32 bytes (AES-256)`);
    return { kid, key };
  });
}

/** The config variable holding the keyring, for the zod schemas of the apps that seal or open secrets. */
export const secretsEncryptionEnv = {
  SECRETS_ENCRYPTION_KEYS: z.string().superRefine((v, ctx) => {
    try {
      parseSecretKeyring(v);
    } catch (err) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be kid:base64key[,kid:base64key…] (${(err as Error).message})` });
    }
  }),
};

/** The envelope context of an authority's ingest secret (sealed by routing-engine, opened by export-worker). */
export const ingestSecretContext = (authorityId: string) => `ingest-secret/${authorityId}`;
