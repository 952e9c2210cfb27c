import { DvdCryptoError, DvdIntegrityError, DvdNetworkError, DvdProblemError, DvdReceiptError, DvdWebhookError } from '@dvd/sdk';
import { AuthError, UsageError } from './profiles';

/** What the exit status of `dvd` says about the failure (also in the CLI's README). */
export const EXIT = {
  ok: 0,
  /** Anything unexpected. */
  failure: 1,
  /** Wrong command line or configuration. */
  usage: 2,
  /** No valid token (401) or the IdP refused one. */
  auth: 3,
  /** Not found or not visible to this profile (404), or forbidden. */
  notFound: 4,
  /** The platform refused the request (400, 409, 413, 415, 422). */
  refused: 5,
  /** Bytes did not match their sha256 (download, package). */
  integrity: 6,
  /** Encryption or decryption failed (wrong key, modified container). */
  crypto: 7,
  /** The platform could not be reached or is unavailable (network, 429, 503) after retries. */
  unavailable: 8,
  /** Waited too long (e.g. `export --wait`). */
  timeout: 9,
  /** The export job FAILED. */
  exportFailed: 10,
  /** A signed receipt did not verify (signature, key, issuer, or claims that do not match). */
  receipt: 11,
} as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof AuthError) return EXIT.auth;
  if (err instanceof DvdIntegrityError) return EXIT.integrity;
  if (err instanceof DvdCryptoError) return EXIT.crypto;
  if (err instanceof DvdReceiptError) return EXIT.receipt;
  if (err instanceof DvdNetworkError) return EXIT.unavailable;
  if (err instanceof DvdWebhookError) return EXIT.refused;
  if (err instanceof DvdProblemError) {
    if (err.status === 401) return EXIT.auth;
    if (err.status === 403 || err.status === 404) return EXIT.notFound;
    if (err.status === 408) return EXIT.timeout;
    if (err.status === 429 || err.status >= 500) return EXIT.unavailable;
    return EXIT.refused;
  }
  return EXIT.failure;
}
