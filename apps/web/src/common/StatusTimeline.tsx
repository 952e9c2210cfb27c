import { useTranslation } from 'react-i18next';
import type { DocumentHistoryEntry, DvdDocument } from '@dvd/sdk';
import { timelineSteps, type DocumentStatus } from './case';

/**
 * The document's way through the platform as an ordered list: steps done, the current one
 * (aria-current="step") and those still ahead. A decision (accepted, rejected, forwarded) is
 * the last step; with the history the steps before it are those the document went through.
 */
export function StatusTimeline({
  status,
  history,
  overdue,
  compact,
}: {
  status: DvdDocument['status'];
  history?: ReadonlyArray<Pick<DocumentHistoryEntry, 'state'>>;
  overdue?: boolean;
  compact?: boolean;
}) {
  const { t } = useTranslation();
  const steps = timelineSteps(status, history);
  return (
    <div className={`timeline${compact ? ' timeline--compact' : ''}`}>
      <p className="kern-body timeline__badges" data-testid="document-status" data-status={status}>
        <span className="kern-sr-only">{t('status.label')}: </span>
        <span className={`kern-badge kern-badge--${badgeOf(status)}`}>
          <span className="kern-label">{t(`status.${status}`)}</span>
        </span>
        {overdue ? (
          <span className="kern-badge kern-badge--danger" data-testid="overdue-badge">
            <span className="kern-label">{t('status.overdue')}</span>
          </span>
        ) : null}
      </p>
      <ol className="timeline__steps" aria-label={t('status.timeline')}>
        {steps.map((step) => (
          <li
            key={step.key}
            className={`timeline__step timeline__step--${step.state}${step.key === 'DECISION' || step.key === status ? ` timeline__step--${step.key.toLowerCase()}` : ''}`}
            aria-current={step.state === 'current' ? 'step' : undefined}
            data-step={step.key}
            data-state={step.state}
          >
            <span className="timeline__dot" aria-hidden="true" />
            <span className="timeline__text">
              {t(`status.${step.key}`)}
              {step.state === 'done' ? <span className="kern-sr-only"> ({t('status.done')})</span> : null}
              {step.state === 'todo' ? <span className="kern-sr-only"> ({t('status.todo')})</span> : null}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}

function badgeOf(status: DocumentStatus): 'info' | 'success' | 'warning' | 'danger' {
  switch (status) {
    case 'RECEIVED':
      return 'warning';
    case 'ROUTED':
    case 'ASSIGNED':
    case 'FORWARDED':
      return 'info';
    case 'EXPORTED':
    case 'ACCEPTED':
      return 'success';
    case 'REJECTED':
      return 'danger';
  }
}
