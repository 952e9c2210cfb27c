/**
 * Forward a document to the responsible authority (docs/case-workflow.md, Forward): this
 * browser downloads the container (checked against its recorded sha256), decrypts it with the
 * authority key loaded in memory, encrypts it for the target authority's newest key and uploads
 * that with progress; the platform checks the new container against the target's keys and
 * never sees the content, and the SDK checks that it stored exactly the bytes sent.
 */
import {
  containerKid,
  decryptWith,
  encryptFor,
  DvdCryptoError,
  type Authority,
  type DvdClient,
  type DvdDocument,
  type TransferProgress,
} from '@dvd/sdk';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError, isAbort } from '../common/errors';
import { useAction } from '../common/hooks';
import type { KeyRing } from '../common/messages';
import { AUTHORITY_ID } from '../common/patterns';
import { AuthorityCheckStatus, TransferBar, findAuthority } from '../common/transfer';
import { Alert, Button, Field, LiveRegion } from '../common/ui';

type Stage = 'idle' | 'downloading' | 'decrypting' | 'encrypting' | 'uploading';

export function ForwardForm({
  client,
  document,
  ring,
  onForwarded,
}: {
  client: DvdClient;
  document: DvdDocument;
  ring: KeyRing;
  onForwarded: (d: DvdDocument) => void;
}) {
  const { t } = useTranslation();
  const [targetId, setTargetId] = useState('');
  const [target, setTarget] = useState<Authority | null>(null);
  const [targetError, setTargetError] = useState<string | null>(null);
  const [stage, setStage] = useState<Stage>('idle');
  const [progress, setProgress] = useState<TransferProgress>({ loaded: 0 });
  const [announced, setAnnounced] = useState('');
  const [failure, setFailure] = useState<string | null>(null);
  const controller = useRef<AbortController | null>(null);
  const check = useAction();
  const busy = stage !== 'idle';
  useEffect(() => () => controller.current?.abort(), []);
  // leaving the page during a forward asks first
  useEffect(() => {
    if (!busy) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [busy]);

  const findTarget = async (): Promise<Authority | null> => {
    const id = targetId.trim();
    if (!AUTHORITY_ID.test(id)) {
      setTarget(null);
      setTargetError(t('forward.errors.authorityId'));
      return null;
    }
    if (id === document.authorityId) {
      setTarget(null);
      setTargetError(t('forward.errors.same'));
      return null;
    }
    if (target?.id === id) return target;
    const found = await check.run(() => findAuthority(client, id));
    setTarget(found ?? null);
    setTargetError(found === null ? t('forward.errors.unknown') : null);
    return found ?? null;
  };

  const enter = (s: Stage) => {
    setStage(s);
    setAnnounced(t(`forward.stage.${s}`));
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(null);
    const found = await findTarget();
    if (!found) {
      window.document.getElementById('forward-target')?.focus();
      return;
    }
    const abort = new AbortController();
    controller.current = abort;
    try {
      enter('downloading');
      setProgress({ loaded: 0, total: document.payload.size });
      const stored = await client.getDocumentPayload(document.id, {
        expected: document.payload,
        onProgress: setProgress,
        signal: abort.signal,
      });
      enter('decrypting');
      const jwe = new TextDecoder().decode(stored);
      const kid = containerKid(jwe);
      const key = kid ? ring.get(kid) : ring.size === 1 ? [...ring.values()][0] : undefined;
      if (!key) throw new DvdCryptoError(`no key for kid ${kid ?? '(none)'}`);
      let plaintext: Uint8Array | null = await decryptWith(jwe, key);
      enter('encrypting');
      const targetKey = await client.authorityKey(found.id);
      const container = new TextEncoder().encode(await encryptFor(plaintext, targetKey));
      plaintext = null;
      if (abort.signal.aborted) throw new DOMException('aborted', 'AbortError');
      enter('uploading');
      setProgress({ loaded: 0, total: container.length });
      // checks that the platform stored exactly these bytes
      const result = await client.forwardDocument(document.id, {
        targetAuthorityId: found.id,
        encryptedPayload: container,
        onProgress: setProgress,
        signal: abort.signal,
      });
      setAnnounced(t('forward.done', { authority: found.name }));
      onForwarded(result.document);
    } catch (err) {
      const noKey = err instanceof DvdCryptoError && err.message.startsWith('no key for kid');
      const message = isAbort(err) || abort.signal.aborted ? t('forward.cancelled') : noKey ? t('decrypt.wrongKey') : describeError(t, err);
      setFailure(message);
      setAnnounced(message);
    } finally {
      controller.current = null;
      setStage('idle');
    }
  };

  const percent = progress.total ? Math.round((progress.loaded / progress.total) * 100) : 0;
  const transfer = stage === 'downloading' || stage === 'uploading';
  return (
    <form className="kern-stack-md" onSubmit={(e) => void submit(e)} noValidate aria-label={t('decision.choices.forward')}>
      <p className="kern-body">{t('forward.intro')}</p>
      {ring.size === 0 ? <Alert kind="info" title={t('forward.needKey')} /> : null}
      <div className="field-with-status">
        <Field
          id="forward-target"
          label={t('forward.target')}
          hint={t('forward.targetHint')}
          value={targetId}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => {
            setTargetId(e.target.value.trim().toLowerCase());
            setTarget(null);
            setTargetError(null);
          }}
          onBlur={() => {
            if (targetId) void findTarget();
          }}
          error={targetError}
          disabled={busy}
          required
        />
        <AuthorityCheckStatus checking={check.busy} name={target?.name ?? null} error={check.error} testId="forward-target-name" />
      </div>
      <div className="kern-btn-wrapper actions">
        <Button type="submit" icon="arrow-forward" busy={busy} disabled={ring.size === 0}>
          {t('forward.submit')}
        </Button>
        {busy ? (
          <Button variant="secondary" icon="close" onClick={() => controller.current?.abort()}>
            {t('common.cancel')}
          </Button>
        ) : null}
      </div>
      {busy ? (
        <TransferBar
          id="forward-progress"
          label={t(`forward.stage.${stage}`)}
          percent={percent}
          showPercent={transfer && !!progress.total}
          max={progress.total ?? 1}
          value={transfer ? progress.loaded : 0}
          stage={stage}
        />
      ) : null}
      <LiveRegion>{announced}</LiveRegion>
      {failure ? (
        <Alert kind="danger" title={t('forward.failed')}>
          <p className="kern-body">{failure}</p>
        </Alert>
      ) : null}
    </form>
  );
}
