/**
 * Where exports go and how they are signed: name, retention period, ingest URL (PATCH) and
 * the ingest secret. A new secret is generated in this browser (32 random bytes), shown
 * once to copy into the receiving system, and rotated in: the previous one keeps signing
 * until the chosen time, so the receiver can switch without a gap.
 */
import type { Authority } from '@dvd/sdk';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useServices } from '../app/context';
import { formatDateTime, localInputToIso, toLocalInput } from '../common/format';
import { useAction } from '../common/hooks';
import { ISO_DURATION, SAFE_TEXT } from '../common/patterns';
import { Alert, Button, ErrorAlert, Field, PageTitle, Section } from '../common/ui';
import { useAdmin } from './AdminArea';

export function newIngestSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

export function IngestSettings() {
  const { t } = useTranslation();
  const { authority } = useAdmin();
  return (
    <>
      <PageTitle title={t('admin.settings.title')}>{t('admin.settings.title')}</PageTitle>
      <Section title={t('admin.settings.general')}>
        <GeneralForm authority={authority} />
      </Section>
      <Section title={t('admin.settings.secret')}>
        <SecretRotation authority={authority} />
      </Section>
    </>
  );
}

function GeneralForm({ authority }: { authority: Authority }) {
  const { t } = useTranslation();
  const { client } = useServices();
  const { setAuthority } = useAdmin();
  const [name, setName] = useState(authority.name);
  const [retention, setRetention] = useState(authority.retentionPeriod);
  const [ingestUrl, setIngestUrl] = useState(authority.ingestUrl ?? '');
  const [errors, setErrors] = useState<Record<string, string | undefined>>({});
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    const errs: Record<string, string | undefined> = {
      name: name.trim() && name.length <= 200 && SAFE_TEXT.test(name) ? undefined : t('admin.units.nameError'),
      retention: ISO_DURATION.test(retention) ? undefined : t('admin.settings.retentionError'),
      ingestUrl: validHttpsUrl(ingestUrl) ? undefined : t('admin.settings.urlError'),
    };
    setErrors(errs);
    if (Object.values(errs).some(Boolean)) return;
    const patch: Record<string, string> = {};
    if (name.trim() !== authority.name) patch.name = name.trim();
    if (retention !== authority.retentionPeriod) patch.retentionPeriod = retention;
    if (ingestUrl !== (authority.ingestUrl ?? '')) patch.ingestUrl = ingestUrl;
    if (Object.keys(patch).length === 0) {
      setDone(t('admin.settings.unchanged'));
      return;
    }
    const updated = await action.run(() => client.updateAuthority(authority.id, patch));
    if (updated) {
      setAuthority(updated);
      setDone(t('admin.settings.saved'));
    }
  };

  return (
    <form className="kern-stack-md" onSubmit={(e) => void submit(e)} noValidate>
      <Field
        label={t('admin.settings.name')}
        value={name}
        onChange={(e) => setName(e.target.value)}
        error={errors.name}
        maxLength={200}
        required
      />
      <Field
        label={t('admin.settings.retention')}
        hint={t('admin.settings.retentionHint')}
        value={retention}
        onChange={(e) => setRetention(e.target.value.toUpperCase())}
        error={errors.retention}
        required
      />
      <Field
        label={t('admin.settings.ingestUrl')}
        hint={t('admin.settings.ingestUrlHint')}
        type="url"
        value={ingestUrl}
        onChange={(e) => setIngestUrl(e.target.value.trim())}
        error={errors.ingestUrl}
        required
      />
      <ErrorAlert error={action.error} />
      <Button type="submit" busy={action.busy} icon="check">
        {t('admin.settings.save')}
      </Button>
      {done ? <Alert kind="success" title={done} /> : null}
    </form>
  );
}

function validHttpsUrl(v: string): boolean {
  try {
    const u = new URL(v);
    // plain http only for the development setup on this machine; the server decides
    return (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password;
  } catch {
    return false;
  }
}

function SecretRotation({ authority }: { authority: Authority }) {
  const { t, i18n } = useTranslation();
  const { client } = useServices();
  const { setAuthority } = useAdmin();
  const [secret, setSecret] = useState<string | null>(null);
  const [until, setUntil] = useState(toLocalInput(new Date(Date.now() + 24 * 3600_000)));
  const [done, setDone] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const action = useAction();

  const rotate = async (e: FormEvent) => {
    e.preventDefault();
    if (!secret) return;
    const previousSecretExpiresAt = localInputToIso(until) ?? undefined;
    const result = await action.run(() => client.rotateIngestSecret(authority.id, { ingestSecret: secret, previousSecretExpiresAt }));
    if (result) {
      setAuthority({ ...authority, ingestSecrets: result.ingestSecrets });
      setSecret(null);
      setDone(t('admin.settings.rotated'));
    }
  };

  return (
    <div className="kern-stack-md">
      <p className="kern-body">{t('admin.settings.secretIntro')}</p>
      {authority.ingestSecrets && authority.ingestSecrets.length > 0 ? (
        <ul className="kern-list">
          {authority.ingestSecrets.map((s) => (
            <li key={s.id} className="kern-body">
              {t('admin.settings.secretSince', { date: formatDateTime(s.createdAt, i18n.language) })}
              {s.expiresAt
                ? ` · ${t('admin.settings.secretUntil', { date: formatDateTime(s.expiresAt, i18n.language) })}`
                : ` · ${t('admin.settings.secretCurrent')}`}
            </li>
          ))}
        </ul>
      ) : null}
      {!secret ? (
        <Button
          variant="secondary"
          icon="autorenew"
          onClick={() => {
            setSecret(newIngestSecret());
            setCopied(false);
            setDone(null);
          }}
        >
          {t('admin.settings.newSecret')}
        </Button>
      ) : (
        <form className="kern-stack-md" onSubmit={(e) => void rotate(e)}>
          <Alert kind="warning" title={t('admin.settings.secretOnce')} />
          <Field
            label={t('admin.settings.secretValue')}
            value={secret}
            readOnly
            className="mono"
            onFocus={(e) => e.currentTarget.select()}
          />
          <Button
            variant="secondary"
            small
            icon="content-copy"
            onClick={() =>
              void navigator.clipboard.writeText(secret).then(
                () => setCopied(true),
                () => setCopied(false),
              )
            }
          >
            {copied ? t('admin.settings.copied') : t('admin.settings.copy')}
          </Button>
          <Field
            label={t('admin.settings.previousUntil')}
            hint={t('admin.settings.previousUntilHint')}
            type="datetime-local"
            value={until}
            onChange={(e) => setUntil(e.target.value)}
          />
          <ErrorAlert error={action.error} />
          <div className="kern-btn-wrapper actions">
            <Button type="submit" busy={action.busy} icon="check">
              {t('admin.settings.rotate')}
            </Button>
            <Button variant="tertiary" onClick={() => setSecret(null)}>
              {t('common.cancel')}
            </Button>
          </div>
        </form>
      )}
      {done ? <Alert kind="success" title={done} /> : null}
    </div>
  );
}
