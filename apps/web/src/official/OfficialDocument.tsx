/**
 * A document as an official works it: download, verify and decrypt the payload with the
 * authority key loaded in memory; save it; decide (accept, reject with a note for the citizen,
 * forward to another authority); the conversations (claim, release, close, read, reply to the
 * citizen's reply key); propose appointment slots; export to the e-file system; for admins,
 * route it again; its history and its signed receipt.
 */
import {
  containerKid,
  decryptWith,
  encryptMessage,
  sha256Hex,
  DvdCryptoError,
  type DvdClient,
  type DvdDocument,
  type ExportJob,
  type Jwk,
  type Thread,
} from '@dvd/sdk';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useServices, useSession } from '../app/context';
import { mayDecide, mayReroute } from '../common/case';
import { DocumentFacts } from '../common/DocumentFacts';
import { DocumentHistory, loadHistory } from '../common/DocumentHistory';
import { saveBytes } from '../common/download';
import { describeError, isAbort } from '../common/errors';
import { safeFileName, sniffFileKind, type FileKind } from '../common/files';
import { formatBytes, formatDateTime, localInputToIso, toLocalInput } from '../common/format';
import { useAction, useLoad } from '../common/hooks';
import { LiveAnnouncer, useDocumentLive } from '../live/hooks';
import { AppointmentActions, Composer, ThreadFacts, ThreadMessages, type KeyRing } from '../common/messages';
import { ReceiptPanel } from '../common/ReceiptPanel';
import { StatusTimeline } from '../common/StatusTimeline';
import { Alert, Button, ErrorAlert, Field, LiveRegion, Loading, PageTitle, Section } from '../common/ui';
import { DecisionPanel } from './DecisionPanel';
import { KeyImport } from './KeyImport';
import { useKeyRing } from './keyring';
import { ReroutePanel } from './ReroutePanel';

export function OfficialDocument() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  const { client } = useServices();
  const session = useSession();
  const ring = useKeyRing();
  const loaded = useLoad(
    async (signal) => {
      const [document, threads, history] = await Promise.all([
        client.getDocument(id),
        client.listThreads({ documentId: id, limit: 100 }),
        loadHistory(client, id, signal),
      ]);
      return { document, threads: threads.items, history };
    },
    [client, id],
  );
  const updateThread = (thread: Thread) =>
    loaded.setData((d) => d && { ...d, threads: [thread, ...d.threads.filter((x) => x.id !== thread.id)] });
  // live: a reply appears without a click on "Refresh"; a status or thread change reloads the page's data
  const live = useDocumentLive(id, loaded.data?.threads.map((x) => x.id) ?? [], loaded.reload);

  if (loaded.loading && !loaded.data) return <Loading />;
  if (!loaded.data) {
    return (
      <>
        <PageTitle title={t('document.title')}>{t('document.title')}</PageTitle>
        <ErrorAlert error={loaded.error} />
        <p className="kern-body">
          <Link className="kern-link" to="/official">
            {t('common.back')}
          </Link>
        </p>
      </>
    );
  }
  const { document, threads, history } = loaded.data;
  const decided = (next: DvdDocument) => {
    loaded.setData((d) => d && { ...d, document: next });
    // the history has the new step
    loaded.reload();
  };
  return (
    <>
      <p className="kern-body back-link">
        <Link className="kern-link" to="/official">
          <span className="kern-icon kern-icon--arrow-back kern-icon--small" aria-hidden="true" /> {t('inbox.back')}
        </Link>
      </p>
      <PageTitle title={t('document.titleWith', { reference: document.referenceNumber })}>
        {t('document.titleWith', { reference: document.referenceNumber })}
      </PageTitle>
      <div className="kern-btn-wrapper actions">
        <Button variant="secondary" icon="autorenew" onClick={loaded.reload} busy={loaded.loading}>
          {t('common.refresh')}
        </Button>
      </div>
      <ErrorAlert error={loaded.error} />
      <LiveAnnouncer message={t('live.newMessage')} count={live.arrived} />
      <Section title={t('document.status')}>
        <div className="kern-stack-md">
          <StatusTimeline status={document.status} history={history} overdue={document.overdue} />
          {document.overdue ? (
            <Alert kind="warning" title={t('overdue.title')} testId="overdue-alert">
              <p className="kern-body">{t('overdue.text')}</p>
            </Alert>
          ) : null}
        </div>
      </Section>
      <Section title={t('document.details')}>
        <DocumentFacts document={document} />
        {document.forwardedFrom ? (
          <p className="kern-body" data-testid="forwarded-from">
            {t('decision.official.forwardedFrom')}
          </p>
        ) : null}
        {!document.replyKey ? <Alert kind="warning" title={t('official.noReplyKey')} /> : null}
      </Section>
      <Section title={t('officialKeys.title')}>
        <KeyImport />
      </Section>
      <Section title={t('decrypt.title')}>
        <DecryptPanel client={client} document={document} ring={ring} />
      </Section>
      <Section title={t('decision.title')}>
        <DecisionPanel client={client} document={document} ring={ring} allowed={mayDecide(session, threads)} onDecided={decided} />
      </Section>
      {mayReroute(session.role, document.status) ? (
        <Section title={t('reroute.title')}>
          <ReroutePanel client={client} document={document} onRouted={loaded.reload} />
        </Section>
      ) : null}
      <Section title={t('threads.title')}>
        {threads.length === 0 ? <p className="kern-body">{t('threads.noneOfficial')}</p> : null}
        {threads.map((thread) => (
          <OfficialThread
            key={thread.id}
            liveVersion={live.messages[thread.id] ?? 0}
            client={client}
            thread={thread}
            document={document}
            ring={ring}
            onChange={updateThread}
          />
        ))}
      </Section>
      <Section title={t('threads.newOfficial')}>
        <NewOfficialThread client={client} document={document} onCreated={updateThread} />
      </Section>
      <Section title={t('export.title')}>
        <ExportPanel client={client} document={document} onCompleted={loaded.reload} />
      </Section>
      <Section title={t('history.title')}>
        <DocumentHistory entries={history} />
      </Section>
      <Section title={t('receipt.title')}>
        <ReceiptPanel client={client} document={document} />
      </Section>
    </>
  );
}

interface Decrypted {
  plaintext: Uint8Array;
  sha256: string;
  kind: FileKind;
  kid: string | undefined;
}

function DecryptPanel({ client, document, ring }: { client: DvdClient; document: DvdDocument; ring: KeyRing }) {
  const { t, i18n } = useTranslation();
  const [progress, setProgress] = useState<{ loaded: number; total?: number } | null>(null);
  const [result, setResult] = useState<Decrypted | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);
  // the plaintext is dropped when the page changes document
  useEffect(() => setResult(null), [document.id]);

  const run = async () => {
    setError(null);
    setResult(null);
    setBusy(true);
    const controller = new AbortController();
    abort.current = controller;
    setProgress({ loaded: 0, total: document.payload.size });
    try {
      // download checked against the recorded size and sha256 (SDK), then decrypted with the key its kid names
      const jwe = new TextDecoder().decode(
        await client.getDocumentPayload(document.id, { expected: document.payload, onProgress: setProgress, signal: controller.signal }),
      );
      const kid = containerKid(jwe);
      const key = kid ? ring.get(kid) : ring.size === 1 ? [...ring.values()][0] : undefined;
      if (!key) throw new DvdCryptoError(`no key for kid ${kid ?? '(none)'}`);
      const plaintext = await decryptWith(jwe, key);
      setResult({ plaintext, sha256: await sha256Hex(plaintext), kind: sniffFileKind(plaintext), kid });
    } catch (err) {
      if (!isAbort(err)) setError(err);
    } finally {
      setBusy(false);
      setProgress(null);
      abort.current = null;
    }
  };

  const noKeyForKid = error instanceof DvdCryptoError && error.message.startsWith('no key for kid');
  return (
    <div className="kern-stack-md">
      <p className="kern-body">{t('decrypt.intro')}</p>
      {ring.size === 0 ? <Alert kind="info" title={t('decrypt.needKey')} /> : null}
      <div className="kern-btn-wrapper actions">
        <Button icon="visibility" onClick={() => void run()} busy={busy} disabled={ring.size === 0}>
          {t('decrypt.run')}
        </Button>
        {busy ? (
          <Button variant="secondary" icon="close" onClick={() => abort.current?.abort()}>
            {t('common.cancel')}
          </Button>
        ) : null}
      </div>
      {progress ? (
        <div className="kern-progress">
          <label className="kern-label" htmlFor="download-progress">
            {t('decrypt.downloading')}
          </label>
          <progress id="download-progress" data-testid="download-progress" max={progress.total ?? 1} value={progress.loaded} />
        </div>
      ) : null}
      <LiveRegion>{busy ? t('decrypt.downloading') : result ? t('decrypt.done') : ''}</LiveRegion>
      {error ? (
        <Alert kind="danger" title={t('decrypt.failed')}>
          <p className="kern-body">{noKeyForKid ? t('decrypt.wrongKey') : describeError(t, error)}</p>
        </Alert>
      ) : null}
      {result ? (
        <div className="kern-stack-sm decrypted" data-testid="decrypted-file">
          <Alert kind="success" title={t('decrypt.done')}>
            <p className="kern-body">{t('decrypt.verified')}</p>
          </Alert>
          <dl className="kern-description-list facts">
            <div className="kern-description-list-item">
              <dt className="kern-description-list-item__key">{t('decrypt.size')}</dt>
              <dd className="kern-description-list-item__value" data-testid="decrypted-size">
                {formatBytes(result.plaintext.length, i18n.language)} ({result.plaintext.length} {t('decrypt.bytes')})
              </dd>
            </div>
            <div className="kern-description-list-item">
              <dt className="kern-description-list-item__key">SHA-256</dt>
              <dd className="kern-description-list-item__value mono" data-testid="decrypted-sha256">
                {result.sha256}
              </dd>
            </div>
            <div className="kern-description-list-item">
              <dt className="kern-description-list-item__key">{t('decrypt.kind')}</dt>
              <dd className="kern-description-list-item__value">{result.kind.type}</dd>
            </div>
            <div className="kern-description-list-item">
              <dt className="kern-description-list-item__key">{t('decrypt.key')}</dt>
              <dd className="kern-description-list-item__value mono">{result.kid ?? '–'}</dd>
            </div>
          </dl>
          <Button
            icon="download"
            onClick={() =>
              saveBytes(
                result.plaintext,
                safeFileName(`${document.referenceNumber}-${document.id.slice(0, 8)}`, result.kind.ext),
                result.kind.type,
              )
            }
          >
            {t('decrypt.save')}
          </Button>
        </div>
      ) : null}
    </div>
  );
}

function OfficialThread({
  liveVersion,
  client,
  thread,
  document,
  ring,
  onChange,
}: {
  /** Grows when the event stream says a message arrived in this thread. */
  liveVersion: number;
  client: DvdClient;
  thread: Thread;
  document: DvdDocument;
  ring: KeyRing;
  onChange: (t: Thread) => void;
}) {
  const { t } = useTranslation();
  const session = useSession();
  const [version, setVersion] = useState(0);
  const action = useAction();
  const mine = thread.assignedOfficialId === session.sub;
  const open = thread.status === 'OPEN';
  const act = (f: () => Promise<Thread>) => void action.run(f).then((x) => x && onChange(x));
  return (
    <article className="thread kern-card" aria-labelledby={`thread-${thread.id}`} data-testid="thread">
      <div className="kern-card__container">
        <div className="kern-card__header">
          <h3 className="kern-heading-small" id={`thread-${thread.id}`}>
            {t(`threads.types.${thread.type}`)}
            {mine ? ` – ${t('threads.assignedToMe')}` : ''}
          </h3>
        </div>
        <div className="kern-card__body kern-stack-md">
          <ThreadFacts thread={thread} />
          <AppointmentActions client={client} thread={thread} onChange={onChange} />
          {thread.appointment && !thread.appointment.confirmedSlot ? (
            <p className="kern-body">{t('appointment.waiting', { count: thread.appointment.proposedSlots.length })}</p>
          ) : null}
          {open ? (
            <div className="kern-btn-wrapper actions">
              {!thread.assigned ? (
                <Button variant="secondary" small busy={action.busy} onClick={() => act(() => client.claimThread(thread.id))}>
                  {t('threads.claim')}
                </Button>
              ) : null}
              {mine ? (
                <>
                  <Button variant="tertiary" small busy={action.busy} onClick={() => act(() => client.releaseThread(thread.id))}>
                    {t('threads.release')}
                  </Button>
                  <Button variant="tertiary" small busy={action.busy} onClick={() => act(() => client.closeThread(thread.id))}>
                    {t('threads.close')}
                  </Button>
                </>
              ) : null}
            </div>
          ) : null}
          <ErrorAlert error={action.error} />
          {ring.size === 0 ? <p className="kern-body kern-body--muted">{t('decrypt.needKeyMessages')}</p> : null}
          <ThreadMessages client={client} threadId={thread.id} ring={ring} viewer="staff" version={version + liveVersion} />
          {open && mine && document.replyKey ? (
            <Composer
              label={`${t('messages.reply')} – ${t(`threads.types.${thread.type}`)}`}
              send={async (text) => {
                await client.postMessage(thread.id, await encryptMessage({ text }, document.replyKey as Jwk));
                setVersion((v) => v + 1);
              }}
            />
          ) : open && !mine ? (
            <p className="kern-body kern-body--muted">{t('threads.claimToReply')}</p>
          ) : null}
        </div>
      </div>
    </article>
  );
}

/** Write to the citizen (a new conversation) or propose appointment slots; the official takes the thread at once. */
function NewOfficialThread({ client, document, onCreated }: { client: DvdClient; document: DvdDocument; onCreated: (t: Thread) => void }) {
  const { t } = useTranslation();
  const [kind, setKind] = useState<'CHAT' | 'APPOINTMENT'>('CHAT');
  const [text, setText] = useState('');
  const base = new Date(Date.now() + 24 * 3600_000);
  base.setHours(9, 0, 0, 0);
  const [slots, setSlots] = useState<Array<{ start: string; minutes: number }>>([{ start: toLocalInput(base), minutes: 30 }]);
  const [slotError, setSlotError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();
  const canWrite = !!document.replyKey;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    setSlotError(null);
    let created: Thread | undefined;
    if (kind === 'CHAT') {
      if (!text.trim() || !document.replyKey) return;
      created = await action.run(async () => {
        const blob = await encryptMessage({ text: text.trim() }, document.replyKey as Jwk);
        const thread = await client.createThread(document.id, { type: 'CHAT' });
        const claimed = await client.claimThread(thread.id);
        await client.postMessage(thread.id, blob);
        return claimed;
      });
    } else {
      const proposed = slots.map((s) => {
        const start = localInputToIso(s.start);
        return start ? { start, end: new Date(Date.parse(start) + s.minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z') } : null;
      });
      if (proposed.some((p) => !p) || proposed.length === 0) {
        setSlotError(t('appointment.slotError'));
        return;
      }
      const note = text.trim();
      created = await action.run(async () => {
        const blob = note && document.replyKey ? await encryptMessage({ text: note }, document.replyKey as Jwk) : null;
        const thread = await client.createThread(document.id, {
          type: 'APPOINTMENT',
          appointment: { proposedSlots: proposed as Array<{ start: string; end: string }> },
        });
        const claimed = await client.claimThread(thread.id);
        if (blob) await client.postMessage(thread.id, blob);
        return claimed;
      });
    }
    if (created) {
      setText('');
      setDone(kind === 'CHAT' ? t('threads.created') : t('appointment.proposed'));
      onCreated(created);
    }
  };

  return (
    <form className="kern-stack-md" onSubmit={(e) => void submit(e)}>
      <fieldset className="kern-fieldset">
        <legend className="kern-label">{t('threads.newKind')}</legend>
        <div className="kern-fieldset__body kern-fieldset__body--horizontal">
          {(['CHAT', 'APPOINTMENT'] as const).map((k) => (
            <div className="kern-form-check" key={k}>
              <input
                className="kern-form-check__radio"
                type="radio"
                id={`onew-${k}`}
                name="onew-kind"
                checked={kind === k}
                onChange={() => setKind(k)}
              />
              <label className="kern-label" htmlFor={`onew-${k}`}>
                {t(`threads.newKinds.${k}`)}
              </label>
            </div>
          ))}
        </div>
      </fieldset>
      {kind === 'APPOINTMENT' ? (
        <fieldset className="kern-fieldset">
          <legend className="kern-label">{t('appointment.slots')}</legend>
          <div className="kern-fieldset__body kern-stack-sm">
            {slots.map((s, i) => (
              <div className="slot-row" key={i}>
                <Field
                  label={t('appointment.slotStart', { n: i + 1 })}
                  type="datetime-local"
                  value={s.start}
                  onChange={(e) => setSlots((all) => all.map((x, j) => (j === i ? { ...x, start: e.target.value } : x)))}
                  required
                />
                <Field
                  label={t('appointment.slotMinutes', { n: i + 1 })}
                  type="number"
                  min={5}
                  max={480}
                  step={5}
                  value={String(s.minutes)}
                  onChange={(e) =>
                    setSlots((all) => all.map((x, j) => (j === i ? { ...x, minutes: Math.max(5, Number(e.target.value) || 30) } : x)))
                  }
                />
                {slots.length > 1 ? (
                  <Button variant="tertiary" small icon="delete" onClick={() => setSlots((all) => all.filter((_, j) => j !== i))}>
                    {t('appointment.removeSlot', { n: i + 1 })}
                  </Button>
                ) : null}
              </div>
            ))}
            {slotError ? <p className="kern-error">{slotError}</p> : null}
            {slots.length < 20 ? (
              <Button
                variant="secondary"
                small
                icon="add"
                onClick={() =>
                  setSlots((all) => {
                    const last = all[all.length - 1];
                    const next = new Date(new Date(last.start).getTime() + 24 * 3600_000);
                    return [...all, { start: toLocalInput(next), minutes: last.minutes }];
                  })
                }
              >
                {t('appointment.addSlot')}
              </Button>
            ) : null}
          </div>
        </fieldset>
      ) : null}
      <div className="kern-form-input">
        <label className="kern-label" htmlFor="official-new-text">
          {kind === 'CHAT' ? t('messages.toCitizen') : t('appointment.note')}
        </label>
        <div className="kern-hint" id="official-new-text-hint">
          {canWrite ? t('messages.encryptedHint') : t('official.noReplyKey')}
        </div>
        <textarea
          id="official-new-text"
          className="kern-form-input__input"
          rows={4}
          maxLength={10_000}
          value={text}
          disabled={!canWrite}
          required={kind === 'CHAT'}
          aria-describedby="official-new-text-hint"
          onChange={(e) => setText(e.target.value)}
        />
      </div>
      <ErrorAlert error={action.error} />
      <Button type="submit" busy={action.busy} disabled={kind === 'CHAT' && !canWrite} icon={kind === 'CHAT' ? 'mail' : 'calendar-today'}>
        {kind === 'CHAT' ? t('threads.startChat') : t('appointment.propose')}
      </Button>
      {done ? <Alert kind="success" title={done} /> : null}
    </form>
  );
}

function ExportPanel({ client, document, onCompleted }: { client: DvdClient; document: DvdDocument; onCompleted: () => void }) {
  const { t, i18n } = useTranslation();
  const [job, setJob] = useState<ExportJob | Pick<ExportJob, 'status' | 'jobId'> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

  const run = async () => {
    setError(null);
    setBusy(true);
    const controller = new AbortController();
    abort.current = controller;
    try {
      const accepted = await client.createExport(document.id);
      setJob({ status: accepted.status, jobId: accepted.jobId });
      const final = await client.waitForExport(accepted.jobId, {
        timeoutMs: 10 * 60_000,
        intervalMs: 1_000,
        signal: controller.signal,
        onStatus: setJob,
      });
      setJob(final);
      if (final.status === 'COMPLETED') onCompleted();
    } catch (err) {
      if (!isAbort(err)) setError(err);
    } finally {
      setBusy(false);
      abort.current = null;
    }
  };

  const full = job && 'attempts' in job ? job : null;
  return (
    <div className="kern-stack-md">
      <p className="kern-body">{t('export.intro')}</p>
      <Button icon="open-in-new" onClick={() => void run()} busy={busy}>
        {t('export.request')}
      </Button>
      {job ? (
        <div aria-live="polite" className="kern-stack-sm">
          <p className="kern-body" data-testid="export-status" data-status={job.status}>
            {t('export.status')}:{' '}
            <span
              className={`kern-badge kern-badge--${job.status === 'COMPLETED' ? 'success' : job.status === 'FAILED' ? 'danger' : 'info'}`}
            >
              <span className="kern-label">{t(`export.states.${job.status}`)}</span>
            </span>
          </p>
          {full ? (
            <p className="kern-body kern-body--small">
              {t('export.attempts', { count: full.attempts })}
              {full.completedAt ? ` · ${formatDateTime(full.completedAt, i18n.language)}` : ''}
              {full.lastErrorCategory || full.lastError ? ` · ${t('export.lastError')}: ${full.lastErrorCategory ?? full.lastError}` : ''}
            </p>
          ) : null}
        </div>
      ) : null}
      <ErrorAlert error={error} />
    </div>
  );
}
