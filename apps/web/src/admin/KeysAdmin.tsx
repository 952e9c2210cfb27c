/**
 * The authority's encryption keys. A new pair is generated in this browser; the private half
 * is offered once as a JWK file (it never goes to the platform), the public half is
 * registered. Retired keys are refused for new uploads.
 */
import { generateAuthorityKeyPair, jwkFileText, type AuthorityKeyAlgorithm, type KeyPair } from '@dvd/sdk';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useServices } from '../app/context';
import { saveBytes } from '../common/download';
import { useAction, useLoad } from '../common/hooks';
import { Alert, Button, ErrorAlert, Loading, PageTitle, Section, Select } from '../common/ui';
import { useAdmin } from './AdminArea';

export function KeysAdmin() {
  const { t } = useTranslation();
  const { client } = useServices();
  const { authority } = useAdmin();
  const keys = useLoad(() => client.listAuthorityKeys(authority.id), [client, authority.id]);
  const [alg, setAlg] = useState<AuthorityKeyAlgorithm>('RSA-OAEP-256');
  const [pair, setPair] = useState<KeyPair | null>(null);
  const [saved, setSaved] = useState(false);
  const [confirmRetire, setConfirmRetire] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const generate = useAction();
  const register = useAction();
  const retire = useAction();

  const fileName = (kid: string) => `${authority.id}-${kid.slice(0, 24)}.private.jwk.json`;

  const onGenerate = () =>
    void generate
      .run(() => generateAuthorityKeyPair({ alg }))
      .then((p) => {
        if (!p) return;
        setPair(p);
        setSaved(false);
        setNotice(null);
      });

  const onDownload = () => {
    if (!pair?.privateJwk) return;
    saveBytes(jwkFileText(pair.privateJwk), fileName(pair.kid), 'application/jwk+json');
    setSaved(true);
  };

  const onRegister = () =>
    void register
      .run(async () => {
        if (!pair) return null;
        return client.addAuthorityKey(authority.id, pair.publicJwk);
      })
      .then((added) => {
        if (!added) return;
        setNotice(t('admin.keys.registered', { kid: added.kid }));
        // the private half is dropped from memory: only the downloaded file keeps it
        setPair(null);
        keys.reload();
      });

  const onRetire = (kid: string) =>
    void retire
      .run(() => client.retireAuthorityKey(authority.id, kid))
      .then(() => {
        setConfirmRetire(null);
        setNotice(t('admin.keys.retired', { kid }));
        keys.reload();
      });

  return (
    <>
      <PageTitle title={t('admin.keys.title')}>{t('admin.keys.title')}</PageTitle>
      <p className="kern-body">{t('admin.keys.intro')}</p>
      <Section title={t('admin.keys.active')}>
        <ErrorAlert error={keys.error} />
        {keys.loading && !keys.data ? <Loading /> : null}
        {keys.data && keys.data.keys.length === 0 ? <Alert kind="warning" title={t('admin.keys.none')} /> : null}
        <ul className="kern-list key-list">
          {keys.data?.keys.map((k, i, all) => (
            <li key={k.kid} className="kern-body key-row" data-testid="key-row">
              <span>
                <span className="mono">{k.kid}</span> · {k.alg ?? k.kty}
                {k.kty === 'EC' ? ` (${k.crv})` : ''}
                {i === all.length - 1 ? ` · ${t('admin.keys.newest')}` : ''}
              </span>
              {confirmRetire === k.kid ? (
                <span className="kern-btn-wrapper">
                  <Button small variant="primary" icon="delete" busy={retire.busy} onClick={() => onRetire(k.kid!)}>
                    {t('admin.keys.retireConfirm')}
                  </Button>
                  <Button small variant="secondary" onClick={() => setConfirmRetire(null)}>
                    {t('common.cancel')}
                  </Button>
                </span>
              ) : (
                <Button small variant="tertiary" icon="delete" onClick={() => setConfirmRetire(k.kid ?? null)}>
                  {t('admin.keys.retire', { kid: k.kid?.slice(0, 12) })}
                </Button>
              )}
            </li>
          ))}
        </ul>
        <ErrorAlert error={retire.error} />
      </Section>
      <Section title={t('admin.keys.new')}>
        <div className="kern-stack-md">
          <Select
            label={t('admin.keys.algorithm')}
            value={alg}
            onChange={(v) => setAlg(v as AuthorityKeyAlgorithm)}
            options={[
              { value: 'RSA-OAEP-256', label: t('admin.keys.rsa') },
              { value: 'ECDH-ES+A256KW', label: t('admin.keys.ec') },
            ]}
            disabled={!!pair}
          />
          {!pair ? (
            <Button icon="add" busy={generate.busy} onClick={onGenerate}>
              {t('admin.keys.generate')}
            </Button>
          ) : (
            <div className="kern-stack-sm">
              <Alert kind="warning" title={t('admin.keys.generated', { kid: pair.kid })}>
                <p className="kern-body">{t('admin.keys.downloadFirst')}</p>
              </Alert>
              <div className="kern-btn-wrapper actions">
                <Button icon="download" onClick={onDownload}>
                  {t('admin.keys.download')}
                </Button>
                <Button variant={saved ? 'primary' : 'secondary'} icon="check" disabled={!saved} busy={register.busy} onClick={onRegister}>
                  {t('admin.keys.register')}
                </Button>
                <Button variant="tertiary" onClick={() => setPair(null)}>
                  {t('admin.keys.discard')}
                </Button>
              </div>
            </div>
          )}
          <ErrorAlert error={generate.error ?? register.error} />
          {notice ? <Alert kind="success" title={notice} /> : null}
        </div>
      </Section>
    </>
  );
}
