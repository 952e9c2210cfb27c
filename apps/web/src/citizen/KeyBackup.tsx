import { jwkFileText } from '@dvd/sdk';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSession } from '../app/context';
import { saveBytes } from '../common/download';
import { formatDateTime } from '../common/format';
import { useAction, useLoad } from '../common/hooks';
import { Alert, Button, ErrorAlert } from '../common/ui';
import { createBackupKey, listReplyKeys, ownerOf, restoreBackup } from './reply-keys';

/**
 * The citizen's reply keys: they live only in this browser (IndexedDB, non-extractable).
 * A backup makes a new key whose private half is downloaded once as a file; a backup file
 * can be read in on another device to read replies there.
 */
export function KeyBackup({ version = 0 }: { version?: number }) {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const owner = ownerOf(session.issuer, session.sub);
  const keys = useLoad(() => listReplyKeys(owner), [owner, version]);
  const action = useAction();
  const [notice, setNotice] = useState<string | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);

  const backup = () =>
    action.run(async () => {
      setNotice(null);
      const { record, privateJwk } = await createBackupKey(owner);
      saveBytes(jwkFileText(privateJwk), `dvd-antwortschluessel-${record.kid.slice(0, 12)}.jwk.json`, 'application/jwk+json');
      setNotice(t('keys.backupDone'));
      keys.reload();
    });

  const restore = (file: File | undefined) =>
    action.run(async () => {
      setNotice(null);
      if (!file) return;
      try {
        await restoreBackup(owner, await file.text());
      } finally {
        if (fileRef.current) fileRef.current.value = '';
      }
      setNotice(t('keys.restoreDone'));
      keys.reload();
    });

  return (
    <div className="kern-stack-md">
      <p className="kern-body">{t('keys.intro')}</p>
      <ErrorAlert error={keys.error} />
      {keys.data && keys.data.length > 0 ? (
        <ul className="kern-list key-list">
          {keys.data.map((k, i) => (
            <li key={k.kid} className="kern-body">
              <span className="mono">{k.kid.slice(0, 16)}…</span> · {formatDateTime(k.createdAt, i18n.language)}
              {i === 0 ? ` · ${t('keys.current')}` : ''}
              {k.backedUp ? ` · ${t('keys.backedUp')}` : ` · ${t('keys.notBackedUp')}`}
            </li>
          ))}
        </ul>
      ) : keys.data ? (
        <p className="kern-body kern-body--muted">{t('keys.none')}</p>
      ) : null}
      <div className="kern-btn-wrapper actions">
        <Button variant="secondary" icon="download" busy={action.busy} onClick={() => void backup()}>
          {t('keys.backup')}
        </Button>
      </div>
      <div className="kern-form-input">
        <label className="kern-label" htmlFor="reply-key-restore">
          {t('keys.restore')}
        </label>
        <div className="kern-hint" id="reply-key-restore-hint">
          {t('keys.restoreHint')}
        </div>
        <input
          ref={fileRef}
          id="reply-key-restore"
          type="file"
          accept=".json,.jwk,application/json"
          className="kern-form-input__input"
          aria-describedby="reply-key-restore-hint"
          onChange={(e) => void restore(e.target.files?.[0])}
        />
      </div>
      <ErrorAlert error={action.error} />
      {notice ? <Alert kind="success" title={notice} /> : null}
    </div>
  );
}
