/**
 * @dvd/sdk — the DirektVermittlungDe client for Node.js ≥ 20 and browsers. Encryption happens
 * on the sender's device and decryption on the recipient's (Web Crypto through `jose`);
 * the platform only ever sees JWEs.
 */
export * from './errors';
export * from './bytes';
export * from './keys';
export * from './jwe';
export { Transport, isRetryable, parseRetryAfter, type TokenSource, type TransportOptions } from './http';
export { readBody, type ProgressListener, type TransferProgress } from './upload';
export * from './client';
export * from './events';
export * from './receipts';
export * from './receiver';
export type * from './types';
export const SDK_VERSION = '0.1.0';
