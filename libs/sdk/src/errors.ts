import type { ProblemDetails } from '@dvd/contracts';

/** What a failed platform call tells: an RFC 9457 problem, as the contracts define it. */
export type Problem = ProblemDetails;

/** Base class of every error the SDK throws. */
export class DvdError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The platform answered with a problem+json error (or another non-2xx status). */
export class DvdProblemError extends DvdError {
  /** The problem code: the last segment of `type`, e.g. `validation-failed`. */
  readonly code: string;
  constructor(
    readonly problem: Problem,
    /** Seconds from `Retry-After`, when the server sent one. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`${problem.status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ''}`);
    this.code = problem.type.split('/').pop() ?? 'unknown';
  }
  get status(): number {
    return this.problem.status;
  }
}

/** The request never got an answer (connection refused, reset, DNS, timeout). */
export class DvdNetworkError extends DvdError {}

/** Bytes did not match what was recorded (sha256 or size), or a package failed its manifest. */
export class DvdIntegrityError extends DvdError {}

/** Encryption or decryption failed: wrong key, tampered container, unsupported algorithm. */
export class DvdCryptoError extends DvdError {}

/** A signed receipt did not verify: bad signature, unknown key, wrong `typ` or issuer, or claims that do not match. */
export class DvdReceiptError extends DvdError {}

/** A webhook delivery was refused: bad signature, outside the time window, replayed, malformed. */
export class DvdWebhookError extends DvdError {
  constructor(
    readonly reason: 'signature' | 'timestamp' | 'replayed' | 'malformed' | 'too-large',
    message: string,
  ) {
    super(message);
  }
}
