import { useTranslation } from 'react-i18next';
import type { DvdDocument } from '@dvd/sdk';

export const DOCUMENT_STEPS = ['RECEIVED', 'ROUTED', 'ASSIGNED', 'EXPORTED'] as const satisfies ReadonlyArray<DvdDocument['status']>;

/**
 * The document's way through the platform as an ordered list: steps done, the current one
 * (aria-current="step") and those still ahead.
 */
export function StatusTimeline({ status, compact }: { status: DvdDocument['status']; compact?: boolean }) {
  const { t } = useTranslation();
  const at = (DOCUMENT_STEPS as readonly string[]).indexOf(status);
  return (
    <div className={`timeline${compact ? ' timeline--compact' : ''}`}>
      <p className="kern-body" data-testid="document-status" data-status={status}>
        <span className="kern-sr-only">{t('status.label')}: </span>
        <span className={`kern-badge kern-badge--${badgeOf(status)}`}>
          <span className="kern-label">{t(`status.${status}`)}</span>
        </span>
      </p>
      <ol className="timeline__steps" aria-label={t('status.timeline')}>
        {DOCUMENT_STEPS.map((step, i) => (
          <li
            key={step}
            className={`timeline__step ${i < at ? 'timeline__step--done' : i === at ? 'timeline__step--current' : 'timeline__step--todo'}`}
            aria-current={i === at ? 'step' : undefined}
          >
            <span className="timeline__dot" aria-hidden="true" />
            <span className="timeline__text">
              {t(`status.${step}`)}
              {i < at ? <span className="kern-sr-only"> ({t('status.done')})</span> : null}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}

function badgeOf(status: DvdDocument['status']): 'info' | 'success' | 'warning' {
  switch (status) {
    case 'RECEIVED':
      return 'warning';
    case 'ROUTED':
    case 'ASSIGNED':
      return 'info';
    case 'EXPORTED':
    case 'ACCEPTED':
    case 'FORWARDED':
      return 'success';
    case 'REJECTED':
      return 'warning';
  }
}
