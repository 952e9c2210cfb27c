/**
 * Pieces the citizen's upload and the official's forward share: the answer to "is this
 * authority known?" beside its field, and the progress of an encrypted transfer.
 */
import { DvdProblemError, type Authority, type DvdClient } from '@dvd/sdk';
import { useTranslation } from 'react-i18next';
import { describeError } from './errors';

/** The authority with this id, or null when the platform knows none (404); other failures are thrown. */
export async function findAuthority(client: DvdClient, id: string): Promise<Authority | null> {
  try {
    return await client.getAuthority(id);
  } catch (err) {
    if (err instanceof DvdProblemError && err.status === 404) return null;
    throw err;
  }
}

/** Announced politely: checking, the authority's name when found, or why it was not. */
export function AuthorityCheckStatus({
  checking,
  name,
  error,
  testId,
}: {
  checking: boolean;
  name: string | null;
  error: unknown;
  testId: string;
}) {
  const { t } = useTranslation();
  return (
    <div aria-live="polite" className="field-status">
      {checking ? <p className="kern-body kern-body--small">{t('upload.checkingAuthority')}</p> : null}
      {name !== null ? (
        <p className="kern-body kern-body--small authority-ok" data-testid={testId}>
          <span className="kern-icon kern-icon--success kern-icon--small" aria-hidden="true" /> {t('upload.authorityFound', { name })}
        </p>
      ) : null}
      {error ? <p className="kern-body kern-body--small">{describeError(t, error)}</p> : null}
    </div>
  );
}

/** A labelled progress bar: the stage's text, the percentage while bytes move. */
export function TransferBar({
  id,
  label,
  percent,
  showPercent,
  max,
  value,
  stage,
}: {
  id: string;
  label: string;
  percent: number;
  showPercent: boolean;
  max: number;
  value: number;
  stage?: string;
}) {
  return (
    <div className="kern-progress">
      <label className="kern-label" htmlFor={id}>
        {label}
        {showPercent ? ` – ${percent} %` : ''}
      </label>
      <progress id={id} data-testid={id} data-stage={stage} max={max} value={value}>
        {percent} %
      </progress>
    </div>
  );
}
