/**
 * Send a document: the file is read and encrypted in this browser for the authority's
 * newest public key (SDK `sendDocument`), then uploaded with progress; only the JWE leaves
 * the device. The citizen's reply key (public half) goes along in the metadata.
 */
import { sha256Hex, type Authority, type DvdDocument, type Jwk } from '@dvd/sdk';
import { useEffect, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useServices, useSession } from '../app/context';
import { formatBytes } from '../common/format';
import { describeError, isAbort } from '../common/errors';
import { useAction } from '../common/hooks';
import { AUTHORITY_ID, DOCUMENT_TYPE, REGION_KEY, SERVICE_KEY, SUGGESTED_DOCUMENT_TYPES, validReferenceNumber } from '../common/patterns';
import { AuthorityCheckStatus, TransferBar, findAuthority } from '../common/transfer';
import { Alert, Button, Field, FieldError, LiveRegion } from '../common/ui';
import { currentReplyKey, ownerOf } from './reply-keys';

type Stage = 'idle' | 'keys' | 'encrypting' | 'uploading' | 'verifying';
type FieldName = 'authorityId' | 'referenceNumber' | 'documentType' | 'serviceKey' | 'regionKey' | 'file';

interface Sent {
  document: DvdDocument;
  kid: string;
  fileSha256: string;
  fileSize: number;
}

export function UploadForm({ onSent }: { onSent: (d: DvdDocument) => void }) {
  const { t, i18n } = useTranslation();
  const { client } = useServices();
  const session = useSession();
  const [authorityId, setAuthorityId] = useState('');
  const [authority, setAuthority] = useState<Authority | null>(null);
  const [referenceNumber, setReferenceNumber] = useState('');
  const [documentType, setDocumentType] = useState('');
  const [serviceKey, setServiceKey] = useState('');
  const [regionKey, setRegionKey] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [stage, setStage] = useState<Stage>('idle');
  const [progress, setProgress] = useState<{ loaded: number; total?: number }>({ loaded: 0 });
  const [announced, setAnnounced] = useState('');
  const [failure, setFailure] = useState<string | null>(null);
  const [sent, setSent] = useState<Sent | null>(null);
  const [dragging, setDragging] = useState(false);
  const controller = useRef<AbortController | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const check = useAction();
  const ids = { authorityId: 'upload-authority', referenceNumber: 'upload-reference', documentType: 'upload-type', file: 'upload-file' };

  const busy = stage !== 'idle';

  // a file dropped beside the drop zone must not replace the app (the session lives in this page's memory)
  useEffect(() => {
    const keep = (e: globalThis.DragEvent) => {
      if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
    };
    window.addEventListener('dragover', keep);
    window.addEventListener('drop', keep);
    return () => {
      window.removeEventListener('dragover', keep);
      window.removeEventListener('drop', keep);
    };
  }, []);
  // leaving the page during an upload asks first
  useEffect(() => {
    if (!busy) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [busy]);

  const verifyAuthority = async (): Promise<Authority | null> => {
    const id = authorityId.trim();
    if (!AUTHORITY_ID.test(id)) {
      setAuthority(null);
      setErrors((e) => ({ ...e, authorityId: t('upload.errors.authorityId') }));
      return null;
    }
    if (authority?.id === id) return authority;
    const found = await check.run(() => findAuthority(client, id));
    setAuthority(found ?? null);
    setErrors((e) => ({ ...e, authorityId: found ? undefined : found === null ? t('upload.errors.authorityUnknown') : undefined }));
    return found ?? null;
  };

  const validate = (): Partial<Record<FieldName, string>> => {
    const e: Partial<Record<FieldName, string>> = {};
    if (!AUTHORITY_ID.test(authorityId.trim())) e.authorityId = t('upload.errors.authorityId');
    if (!validReferenceNumber(referenceNumber.trim())) e.referenceNumber = t('upload.errors.referenceNumber');
    if (!DOCUMENT_TYPE.test(documentType.trim())) e.documentType = t('upload.errors.documentType');
    if (serviceKey.trim() && !SERVICE_KEY.test(serviceKey.trim())) e.serviceKey = t('upload.errors.serviceKey');
    if (regionKey.trim() && !REGION_KEY.test(regionKey.trim())) e.regionKey = t('upload.errors.regionKey');
    if (!file) e.file = t('upload.errors.file');
    return e;
  };

  const focusFirst = (e: Partial<Record<FieldName, string>>) => {
    const order: FieldName[] = ['authorityId', 'referenceNumber', 'documentType', 'serviceKey', 'regionKey', 'file'];
    const first = order.find((f) => e[f]);
    const id = first ? ((ids as Record<string, string>)[first] ?? `upload-${first}`) : undefined;
    if (id) document.getElementById(id)?.focus();
  };

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setFailure(null);
    setSent(null);
    const e = validate();
    setErrors(e);
    if (Object.values(e).some(Boolean)) return focusFirst(e);
    const found = await verifyAuthority();
    if (!found) return focusFirst({ authorityId: 'x' });

    const abort = new AbortController();
    controller.current = abort;
    setStage('keys');
    setProgress({ loaded: 0 });
    setAnnounced(t('upload.stage.keys'));
    try {
      const replyKey = await currentReplyKey(ownerOf(session.issuer, session.sub));
      const bytes = new Uint8Array(await file!.arrayBuffer());
      const fileSha256 = await sha256Hex(bytes);
      let lastStep = -1;
      const result = await client.sendDocument({
        file: bytes,
        metadata: {
          authorityId: found.id,
          referenceNumber: referenceNumber.trim(),
          documentType: documentType.trim(),
          ...(serviceKey.trim() ? { serviceKey: serviceKey.trim() } : {}),
          ...(regionKey.trim() ? { regionKey: regionKey.trim() } : {}),
          // jose's JWK (kty: string) as the contract's Jwk (kty: 'RSA' | 'EC'): a reply key is always EC
          replyKey: replyKey.publicJwk as Jwk,
        },
        signal: abort.signal,
        onStage: (s) => {
          // a cancel while encrypting must stop the upload before it starts
          if (abort.signal.aborted) throw new DOMException('aborted', 'AbortError');
          setStage(s);
          setAnnounced(t(`upload.stage.${s}`));
        },
        onProgress: (p) => {
          setProgress(p);
          if (p.total) {
            const step = Math.floor((p.loaded / p.total) * 4);
            if (step !== lastStep) {
              lastStep = step;
              setAnnounced(t('upload.percent', { percent: Math.round((p.loaded / p.total) * 100) }));
            }
          }
        },
      });
      setSent({ document: result.document, kid: result.kid, fileSha256, fileSize: bytes.length });
      setAnnounced(t('upload.done'));
      setReferenceNumber('');
      setFile(null);
      if (fileInput.current) fileInput.current.value = '';
      onSent(result.document);
    } catch (err) {
      const message = isAbort(err) || abort.signal.aborted ? t('upload.cancelled') : describeError(t, err);
      setFailure(message);
      setAnnounced(message);
    } finally {
      controller.current = null;
      setStage('idle');
    }
  };

  const pickFile = (f: File | null | undefined) => {
    setFile(f ?? null);
    setSent(null);
    setErrors((e) => ({ ...e, file: undefined }));
  };

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setDragging(false);
    if (busy) return;
    const f = e.dataTransfer.files?.[0];
    if (f) pickFile(f);
  };

  const percent = progress.total ? Math.round((progress.loaded / progress.total) * 100) : 0;

  return (
    <form className="upload kern-stack-md" onSubmit={(e) => void submit(e)} noValidate aria-describedby="upload-intro">
      <p className="kern-body" id="upload-intro">
        {t('upload.intro')}
      </p>
      <div className="field-with-status">
        <Field
          id={ids.authorityId}
          label={t('upload.authority')}
          hint={t('upload.authorityHint')}
          value={authorityId}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => {
            setAuthorityId(e.target.value.trim().toLowerCase());
            setAuthority(null);
          }}
          onBlur={() => {
            if (authorityId) void verifyAuthority();
          }}
          error={errors.authorityId}
          disabled={busy}
          required
        />
        <AuthorityCheckStatus checking={check.busy} name={authority?.name ?? null} error={check.error} testId="authority-name" />
      </div>
      <Field
        id={ids.referenceNumber}
        label={t('upload.referenceNumber')}
        hint={t('upload.referenceNumberHint')}
        value={referenceNumber}
        maxLength={50}
        autoComplete="off"
        onChange={(e) => setReferenceNumber(e.target.value)}
        error={errors.referenceNumber}
        disabled={busy}
        required
      />
      <Field
        id={ids.documentType}
        label={t('upload.documentType')}
        hint={t('upload.documentTypeHint')}
        value={documentType}
        list="document-types"
        maxLength={40}
        autoComplete="off"
        spellCheck={false}
        onChange={(e) => setDocumentType(e.target.value.toUpperCase().replace(/[\s-]+/g, '_'))}
        error={errors.documentType}
        disabled={busy}
        required
      />
      <datalist id="document-types">
        {SUGGESTED_DOCUMENT_TYPES.map((d) => (
          <option key={d} value={d}>
            {t(`documentTypes.${d}`, { defaultValue: d })}
          </option>
        ))}
      </datalist>
      <details className="more-fields">
        <summary className="kern-body">{t('upload.moreFields')}</summary>
        <div className="kern-stack-md">
          <Field
            id="upload-serviceKey"
            label={t('upload.serviceKey')}
            hint={t('upload.serviceKeyHint')}
            value={serviceKey}
            inputMode="numeric"
            maxLength={14}
            optional
            onChange={(e) => setServiceKey(e.target.value.replace(/\D/g, ''))}
            error={errors.serviceKey}
            disabled={busy}
          />
          <Field
            id="upload-regionKey"
            label={t('upload.regionKey')}
            hint={t('upload.regionKeyHint')}
            value={regionKey}
            inputMode="numeric"
            maxLength={12}
            optional
            onChange={(e) => setRegionKey(e.target.value.replace(/\D/g, ''))}
            error={errors.regionKey}
            disabled={busy}
          />
        </div>
      </details>

      <div
        className={`dropzone${dragging ? ' dropzone--active' : ''}${errors.file ? ' dropzone--error' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          if (!busy) setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        data-testid="dropzone"
      >
        <div className="kern-form-input">
          <label className="kern-label" htmlFor={ids.file}>
            {t('upload.file')}
          </label>
          <div className="kern-hint" id="upload-file-hint">
            {t('upload.fileHint')}
          </div>
          <input
            ref={fileInput}
            id={ids.file}
            type="file"
            className="kern-form-input__input"
            aria-describedby={`upload-file-hint${errors.file ? ' upload-file-error' : ''}`}
            aria-invalid={errors.file ? true : undefined}
            disabled={busy}
            onChange={(e) => pickFile(e.target.files?.[0])}
          />
          {errors.file ? <FieldError id="upload-file-error" text={errors.file} /> : null}
        </div>
        {file ? (
          <p className="kern-body" data-testid="chosen-file">
            {t('upload.chosen', { name: file.name, size: formatBytes(file.size, i18n.language) })}
          </p>
        ) : (
          <p className="kern-body kern-body--muted dropzone__hint" aria-hidden="true">
            {t('upload.dropHere')}
          </p>
        )}
      </div>

      <div className="kern-btn-wrapper actions">
        <Button type="submit" busy={busy} icon="drive-folder-upload">
          {t('upload.submit')}
        </Button>
        {busy ? (
          <Button variant="secondary" icon="close" onClick={() => controller.current?.abort()}>
            {t('upload.cancel')}
          </Button>
        ) : null}
      </div>

      {busy ? (
        <TransferBar
          id="upload-progress"
          label={t(`upload.stage.${stage}`)}
          percent={percent}
          showPercent={stage === 'uploading' && !!progress.total}
          max={progress.total ?? 1}
          value={stage === 'uploading' || stage === 'verifying' ? progress.loaded : 0}
        />
      ) : null}
      <LiveRegion>{announced}</LiveRegion>

      {failure ? (
        <Alert kind="danger" title={t('upload.failed')}>
          <p className="kern-body">{failure}</p>
        </Alert>
      ) : null}
      {sent ? (
        <Alert kind="success" title={t('upload.done')} testId="upload-success">
          <p className="kern-body">{t('upload.doneText', { reference: sent.document.referenceNumber })}</p>
          <dl className="kern-description-list facts">
            <div className="kern-description-list-item">
              <dt className="kern-description-list-item__key">{t('document.id')}</dt>
              <dd className="kern-description-list-item__value mono">{sent.document.id}</dd>
            </div>
            <div className="kern-description-list-item">
              <dt className="kern-description-list-item__key">{t('upload.fileFingerprint')}</dt>
              <dd className="kern-description-list-item__value mono">
                {formatBytes(sent.fileSize, i18n.language)} · SHA-256 {sent.fileSha256}
              </dd>
            </div>
            <div className="kern-description-list-item">
              <dt className="kern-description-list-item__key">{t('upload.encryptedFor')}</dt>
              <dd className="kern-description-list-item__value mono">{sent.kid}</dd>
            </div>
          </dl>
        </Alert>
      ) : null}
    </form>
  );
}
