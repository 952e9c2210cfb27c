import { randomBytes } from 'node:crypto';
import { CompactEncrypt, GeneralEncrypt, JWK, KeyLike, exportJWK, generateKeyPair } from 'jose';

export interface TestEncryptionKey {
  kid: string;
  publicKey: KeyLike;
  privateKey: KeyLike;
  publicJwk: JWK;
  privateJwk: JWK;
}

/** An authority encryption key as an admin would register it (RSA-3072, RSA-OAEP-256). */
export async function makeEncryptionKey(kid: string, kind: 'rsa' | 'ec' = 'ec'): Promise<TestEncryptionKey> {
  const alg = kind === 'rsa' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW';
  const { publicKey, privateKey } = await generateKeyPair(
    alg,
    kind === 'rsa' ? { modulusLength: 3072, extractable: true } : { crv: 'P-256', extractable: true },
  );
  return {
    kid,
    publicKey,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'enc' },
    privateJwk: await exportJWK(privateKey),
  };
}

/** A compact JWE of `plaintext` (random bytes if a size is given) for the key. */
export async function encryptCompact(key: TestEncryptionKey, plaintext: Uint8Array | number): Promise<string> {
  const bytes = typeof plaintext === 'number' ? randomBytes(plaintext) : plaintext;
  const alg = key.publicJwk.alg as string;
  return new CompactEncrypt(bytes).setProtectedHeader({ alg, enc: 'A256GCM', kid: key.kid }).encrypt(key.publicKey);
}

/** A JWE in general JSON serialization for several recipients. */
export async function encryptJson(keys: TestEncryptionKey[], plaintext: Uint8Array): Promise<string> {
  const jwe = new GeneralEncrypt(plaintext).setProtectedHeader({ enc: 'A256GCM' });
  for (const k of keys) jwe.addRecipient(k.publicKey).setUnprotectedHeader({ alg: k.publicJwk.alg as string, kid: k.kid });
  return JSON.stringify(await jwe.encrypt());
}

export interface MultipartPart {
  name: string;
  value: string | Buffer;
  filename?: string;
  contentType?: string;
}

/** A multipart/form-data body with parts in the given order. */
export function multipartBody(parts: MultipartPart[]): { body: Buffer; contentType: string } {
  const boundary = `----dvd${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`;
    const type = p.contentType ? `\r\nContent-Type: ${p.contentType}` : '';
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n`),
      Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The usual upload: metadata field, then the payload as a file part. */
export function documentUpload(metadata: object, payload: string | Buffer) {
  return multipartBody([
    { name: 'metadata', value: JSON.stringify(metadata), contentType: 'application/json' },
    { name: 'encryptedPayload', value: payload, filename: 'document.jwe', contentType: 'application/jose' },
  ]);
}
