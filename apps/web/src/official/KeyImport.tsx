import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useAction } from '../common/hooks';
import { Alert, Button, ErrorAlert } from '../common/ui';
import { forgetKey, importKeyFile, useLoadedKeys } from './keyring';

/** Pick the authority's private key file: imported into memory, the file's text dropped at once. */
export function KeyImport({ compact }: { compact?: boolean }) {
  const { t } = useTranslation();
  const keys = useLoadedKeys();
  const action = useAction();
  const [last, setLast] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  const onFile = (file: File | undefined) =>
    action.run(async () => {
      if (!file) return;
      try {
        const loaded = await importKeyFile(await file.text());
        setLast(loaded.kid);
      } finally {
        if (input.current) input.current.value = '';
      }
    });

  return (
    <div className="kern-stack-sm key-import">
      {!compact ? <p className="kern-body">{t('officialKeys.intro')}</p> : null}
      <div className="kern-form-input">
        <label className="kern-label" htmlFor="authority-key-file">
          {t('officialKeys.file')}
        </label>
        <div className="kern-hint" id="authority-key-file-hint">
          {t('officialKeys.fileHint')}
        </div>
        <input
          ref={input}
          id="authority-key-file"
          type="file"
          accept=".json,.jwk,application/json"
          className="kern-form-input__input"
          aria-describedby="authority-key-file-hint"
          onChange={(e) => void onFile(e.target.files?.[0])}
        />
      </div>
      <ErrorAlert error={action.error} title={t('officialKeys.failed')} />
      {last && keys.has(last) ? <Alert kind="success" title={t('officialKeys.loaded', { kid: last })} /> : null}
      {keys.size > 0 ? (
        <ul className="kern-list key-list" aria-label={t('officialKeys.loadedList')}>
          {[...keys.values()].map((k) => (
            <li key={k.kid} className="kern-body">
              <span className="mono">{k.kid}</span> ({k.alg}){' '}
              <Button variant="tertiary" small icon="delete" onClick={() => forgetKey(k.kid)}>
                {t('officialKeys.forget')}
              </Button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="kern-body kern-body--muted">{t('officialKeys.none')}</p>
      )}
    </div>
  );
}
