/** Turns what an SDK call threw into a sentence for the person in front of the screen. */
import { DvdCryptoError, DvdIntegrityError, DvdNetworkError, DvdProblemError } from '@dvd/sdk';
import type { TFunction } from 'i18next';
import { LoginError } from '../auth/auth';

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException ? err.name === 'AbortError' : (err as { name?: string })?.name === 'AbortError';
}

export function describeError(t: TFunction, err: unknown): string {
  if (isAbort(err)) return t('errors.aborted');
  if (err instanceof LoginError) return t(`auth.errors.${err.code}`);
  if (err instanceof DvdProblemError) {
    const known = `errors.code.${err.code}`;
    const byCode = t(known, { defaultValue: '' });
    if (byCode) return byCode;
    const fields = err.problem.errors?.map((e) => `${e.field}: ${e.message}`).join('; ');
    switch (err.status) {
      case 400:
        return t('errors.invalid', { detail: fields || err.problem.detail || err.problem.title });
      case 401:
        return t('errors.unauthorized');
      case 403:
      case 404:
        return t('errors.notFound');
      case 409:
        return t('errors.conflict', { detail: err.problem.detail ?? err.problem.title });
      case 413:
        return t('errors.tooLarge');
      case 422:
        return t('errors.unprocessable', { detail: err.problem.detail ?? err.problem.title });
      case 429:
        return t('errors.rateLimited', { seconds: err.retryAfterSeconds ?? 60 });
      case 503:
      case 502:
      case 504:
        return t('errors.unavailable');
      default:
        return t('errors.status', { status: err.status, detail: err.problem.title });
    }
  }
  if (err instanceof DvdNetworkError) return t('errors.network');
  if (err instanceof DvdIntegrityError) return t('errors.integrity');
  if (err instanceof DvdCryptoError) return t('errors.crypto');
  return t('errors.unexpected');
}
