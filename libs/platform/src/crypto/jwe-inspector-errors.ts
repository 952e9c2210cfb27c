/** Why a container was refused; intake answers it as the problem type (422). */
export type JweRule =
  | 'not-a-jwe'
  | 'malformed-jwe'
  | 'truncated-jwe'
  | 'algorithm-not-allowed'
  | 'encryption-not-allowed'
  | 'critical-header'
  | 'unknown-kid'
  | 'header-too-large';

export class JweValidationError extends Error {
  constructor(
    readonly rule: JweRule,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'JweValidationError';
  }
}

export function fail(rule: JweRule, detail: string): never {
  throw new JweValidationError(rule, detail);
}

/** base64url without padding, one lookup per character. */
export const B64URL = /^[A-Za-z0-9_-]*$/;
