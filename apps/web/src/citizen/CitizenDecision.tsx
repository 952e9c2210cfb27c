/**
 * The authority's decision as the citizen sees it: accepted; rejected with its reason and the
 * note the official wrote (a JWE to the citizen's reply key, opened here); forwarded, with the
 * way to the new document at the responsible authority — and on that one the way back.
 */
import type { DvdDocument } from '@dvd/sdk';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useLoad } from '../common/hooks';
import { openMessage, type KeyRing } from '../common/messages';
import { Alert, ErrorAlert, Loading } from '../common/ui';

export function CitizenDecision({ document, ring }: { document: DvdDocument; ring: KeyRing }) {
  const { t } = useTranslation();
  return (
    <div className="kern-stack-md" data-testid="decision" data-status={document.status}>
      {document.status === 'ACCEPTED' ? (
        <Alert kind="success" title={t('decision.citizen.accepted')}>
          <p className="kern-body">{t('decision.citizen.acceptedText')}</p>
        </Alert>
      ) : null}
      {document.status === 'REJECTED' && document.rejection ? (
        <Alert kind="warning" title={t('decision.citizen.rejected')}>
          <dl className="kern-description-list facts">
            <div className="kern-description-list-item">
              <dt className="kern-description-list-item__key">{t('decision.reason')}</dt>
              <dd className="kern-description-list-item__value" data-testid="rejection-reason" data-reason={document.rejection.reasonCode}>
                {t(`reasons.${document.rejection.reasonCode}.title`)}
                <span className="kern-body--small reason-text"> – {t(`reasons.${document.rejection.reasonCode}.citizen`)}</span>
              </dd>
            </div>
            <div className="kern-description-list-item">
              <dt className="kern-description-list-item__key">{t('decision.note')}</dt>
              <dd className="kern-description-list-item__value">
                {document.rejection.note ? <RejectionNote note={document.rejection.note} ring={ring} /> : t('decision.noNote')}
              </dd>
            </div>
          </dl>
        </Alert>
      ) : null}
      {document.status === 'FORWARDED' ? (
        <Alert kind="info" title={t('decision.citizen.forwarded')}>
          <p className="kern-body">{t('decision.citizen.forwardedText')}</p>
          {document.forwardedTo ? (
            <p className="kern-body">
              <Link className="kern-link" to={`/citizen/documents/${document.forwardedTo}`} data-testid="forwarded-to">
                {t('decision.citizen.toNew')}
              </Link>
            </p>
          ) : null}
        </Alert>
      ) : null}
      {document.forwardedFrom ? (
        <p className="kern-body" data-testid="forwarded-from">
          {t('decision.citizen.forwardedFrom', { authority: document.authorityId })}{' '}
          <Link className="kern-link" to={`/citizen/documents/${document.forwardedFrom}`}>
            {t('decision.citizen.toOriginal')}
          </Link>
        </p>
      ) : null}
    </div>
  );
}

/** The official's note, decrypted with the reply key the document was sent with. */
function RejectionNote({ note, ring }: { note: string; ring: KeyRing }) {
  const { t } = useTranslation();
  const opened = useLoad(() => openMessage(note, ring), [note, ring]);
  if (opened.loading && !opened.data) return <Loading label={t('decision.opening')} />;
  if (opened.error) return <ErrorAlert error={opened.error} />;
  return opened.data !== null && opened.data !== undefined ? (
    <p className="kern-body note-text" data-testid="rejection-note">
      {opened.data}
    </p>
  ) : (
    <span className="kern-body--muted">{t('decision.noteSealed')}</span>
  );
}
