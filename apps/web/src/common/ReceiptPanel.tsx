/**
 * The platform's signed receipt of a document (ADR 0019), verified in this browser: the JWS
 * against the platform's public receipt keys (`/.well-known/jwks.json`, same origin through the
 * web server), and its claims against the document as shown (id, authority, size and sha256 of
 * the stored container). It can be downloaded and shown to anyone: it names no person and no
 * Aktenzeichen.
 */
import { DvdProblemError, DvdReceiptError, type DvdClient, type DvdDocument, type VerifiedReceipt } from '@dvd/sdk';
import { useTranslation } from 'react-i18next';
import { saveBytes } from './download';
import { formatBytes, formatDateTime } from './format';
import { useLoad } from './hooks';
import { Alert, Button, ErrorAlert, Loading } from './ui';

type Checked =
  | { kind: 'verified'; receipt: string; verified: VerifiedReceipt }
  | { kind: 'invalid'; receipt: string; reason: string }
  | { kind: 'none' };

export async function checkReceipt(client: DvdClient, document: DvdDocument): Promise<Checked> {
  let receipt: string;
  try {
    receipt = (await client.getDocumentReceipt(document.id)).receipt;
  } catch (err) {
    // documents stored before receipts existed have none
    if (err instanceof DvdProblemError && err.status === 404) return { kind: 'none' };
    throw err;
  }
  try {
    const verified = await client.verifyReceipt(receipt, {
      expected: {
        documentId: document.id,
        authorityId: document.authorityId,
        size: document.payload.size,
        sha256: document.payload.sha256,
      },
    });
    return { kind: 'verified', receipt, verified };
  } catch (err) {
    if (err instanceof DvdReceiptError) return { kind: 'invalid', receipt, reason: err.message };
    throw err;
  }
}

export function ReceiptPanel({ client, document }: { client: DvdClient; document: DvdDocument }) {
  const { t, i18n } = useTranslation();
  const checked = useLoad(() => checkReceipt(client, document), [client, document.id, document.payload.sha256]);
  if (checked.loading && !checked.data) return <Loading label={t('receipt.checking')} />;
  const result = checked.data;
  return (
    <div className="kern-stack-md receipt">
      <p className="kern-body">{t('receipt.intro')}</p>
      <ErrorAlert error={checked.error} title={t('receipt.unchecked')} />
      {checked.error ? (
        <Button variant="secondary" icon="autorenew" onClick={checked.reload} busy={checked.loading}>
          {t('receipt.retry')}
        </Button>
      ) : null}
      {result?.kind === 'none' ? <Alert kind="info" title={t('receipt.none')} /> : null}
      {result?.kind === 'invalid' ? (
        <Alert kind="danger" title={t('receipt.invalid')} testId="receipt-invalid">
          <p className="kern-body">{t('receipt.invalidText')}</p>
        </Alert>
      ) : null}
      {result?.kind === 'verified' ? (
        <>
          <Alert kind="success" title={t('receipt.verified')} testId="receipt-verified">
            <p className="kern-body">{t('receipt.verifiedText')}</p>
          </Alert>
          <dl className="kern-description-list facts" data-testid="receipt-claims">
            {(
              [
                [t('document.id'), result.verified.claims.sub, true],
                [t('document.authority'), result.verified.claims.authorityId],
                [
                  t('document.documentType'),
                  t(`documentTypes.${result.verified.claims.documentType}`, { defaultValue: result.verified.claims.documentType }),
                ],
                [t('receipt.storedAt'), formatDateTime(new Date(result.verified.claims.iat * 1000).toISOString(), i18n.language)],
                [
                  t('document.container'),
                  `${formatBytes(result.verified.claims.payload.size, i18n.language)} · SHA-256 ${result.verified.claims.payload.sha256}`,
                  true,
                ],
                [t('receipt.encryptedFor'), result.verified.claims.payloadKid, true],
                [t('receipt.issuer'), result.verified.claims.iss, true],
                [t('receipt.signingKey'), `${result.verified.kid} (${result.verified.alg})`, true],
              ] as Array<[string, string, boolean?]>
            ).map(([k, v, mono]) => (
              <div className="kern-description-list-item" key={k}>
                <dt className="kern-description-list-item__key">{k}</dt>
                <dd className={`kern-description-list-item__value${mono ? ' mono' : ''}`}>{v}</dd>
              </div>
            ))}
          </dl>
          <div className="kern-stack-sm">
            <Button
              variant="secondary"
              icon="download"
              aria-describedby={`receipt-download-hint-${document.id}`}
              onClick={() => saveBytes(`${result.receipt}\n`, t('receipt.fileName', { id: document.id }), 'application/jose')}
            >
              {t('receipt.download')}
            </Button>
            <p className="kern-body kern-body--small kern-body--muted" id={`receipt-download-hint-${document.id}`}>
              {t('receipt.downloadHint')}
            </p>
          </div>
        </>
      ) : null}
    </div>
  );
}
