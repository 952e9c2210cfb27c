import type { DvdDocument } from '@dvd/sdk';
import { useTranslation } from 'react-i18next';
import { formatBytes, formatDate, formatDateTime } from './format';

/** What the platform knows about a document (never its content). */
export function DocumentFacts({ document }: { document: DvdDocument }) {
  const { t, i18n } = useTranslation();
  const rows: Array<[string, string, boolean?]> = [
    [t('document.referenceNumber'), document.referenceNumber],
    [t('document.documentType'), t(`documentTypes.${document.documentType}`, { defaultValue: document.documentType })],
    [t('document.authority'), document.authorityId],
    [t('document.unit'), document.unitId ?? t('document.notRouted')],
    ...(document.serviceKey ? ([[t('document.serviceKey'), document.serviceKey]] as Array<[string, string]>) : []),
    ...(document.regionKey ? ([[t('document.regionKey'), document.regionKey]] as Array<[string, string]>) : []),
    [t('document.received'), formatDateTime(document.createdAt, i18n.language)],
    [t('document.retention'), formatDate(document.retentionDate, i18n.language)],
    [t('document.container'), `${formatBytes(document.payload.size, i18n.language)} · SHA-256 ${document.payload.sha256}`, true],
    [t('document.id'), document.id, true],
  ];
  return (
    <dl className="kern-description-list facts">
      {rows.map(([k, v, mono]) => (
        <div className="kern-description-list-item" key={k}>
          <dt className="kern-description-list-item__key">{k}</dt>
          <dd className={`kern-description-list-item__value${mono ? ' mono' : ''}`}>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
