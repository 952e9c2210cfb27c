import type { DvdDocument } from '@dvd/sdk';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { formatDateTime } from './format';
import { StatusTimeline } from './StatusTimeline';

/** One document in a list: Aktenzeichen (the link), type, authority, date, status timeline. */
export function DocumentRow({ document, to, extra }: { document: DvdDocument; to: string; extra?: ReactNode }) {
  const { t, i18n } = useTranslation();
  return (
    <li className="doc-row kern-card" data-testid="document-row" data-document-id={document.id}>
      <div className="kern-card__container">
        <div className="kern-card__header doc-row__header">
          <h3 className="kern-heading-small doc-row__title">
            <Link className="kern-link" to={to}>
              <span className="kern-sr-only">{t('document.referenceNumber')}: </span>
              {document.referenceNumber}
            </Link>
          </h3>
          <p className="kern-body kern-body--small doc-row__meta">
            {t(`documentTypes.${document.documentType}`, { defaultValue: document.documentType })}
            {' · '}
            {document.authorityId}
            {document.unitId ? ` / ${document.unitId}` : ''}
            {' · '}
            <time dateTime={document.createdAt}>{formatDateTime(document.createdAt, i18n.language)}</time>
          </p>
        </div>
        <div className="kern-card__body">
          <StatusTimeline status={document.status} overdue={document.overdue} compact />
          {extra}
        </div>
      </div>
    </li>
  );
}
