/**
 * One of the citizen's documents: its status and the authority's decision (with the note of a
 * rejection, decrypted here), its conversations with the authority (read with the citizen's
 * reply keys, written to the authority's key), a callback request, the confirmation of an
 * appointment the authority proposed, the history and the signed receipt, verified here.
 */
import { encryptMessage, type DvdClient, type Jwk, type Thread } from '@dvd/sdk';
import { useCallback, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useServices, useSession } from '../app/context';
import { isDecided } from '../common/case';
import { DocumentFacts } from '../common/DocumentFacts';
import { DocumentHistory, loadHistory } from '../common/DocumentHistory';
import { formatSlot, localInputToIso, toLocalInput } from '../common/format';
import { useAction, useLoad } from '../common/hooks';
import { LiveAnnouncer, useDocumentLive } from '../live/hooks';
import { AppointmentActions, Composer, ThreadFacts, ThreadMessages, type KeyRing } from '../common/messages';
import { ReceiptPanel } from '../common/ReceiptPanel';
import { StatusTimeline } from '../common/StatusTimeline';
import { Alert, Button, ErrorAlert, Field, Loading, PageTitle, Section, TextArea } from '../common/ui';
import { CitizenDecision } from './CitizenDecision';
import { keyRingOf, ownerOf } from './reply-keys';

export function CitizenDocument() {
  const { id = '' } = useParams();
  // a new page for each document (the chain of a forward links one to the next): fresh state, the h1 takes the focus
  return <CitizenDocumentPage key={id} id={id} />;
}

function CitizenDocumentPage({ id }: { id: string }) {
  const { t } = useTranslation();
  const { client } = useServices();
  const session = useSession();
  const owner = ownerOf(session.issuer, session.sub);
  const loaded = useLoad(
    async (signal) => {
      const [document, threads, ring, history] = await Promise.all([
        client.getDocument(id),
        client.listThreads({ documentId: id, limit: 100 }),
        keyRingOf(owner),
        loadHistory(client, id, signal),
      ]);
      return { document, threads: threads.items, ring, history };
    },
    [client, id, owner],
  );
  // the authority's key is fetched once per page, when the first message is written
  const authorityKey = useRef<Promise<Jwk> | null>(null);
  const keyFor = useCallback(() => {
    if (!loaded.data) throw new Error('not loaded');
    authorityKey.current ??= client.authorityKey(loaded.data.document.authorityId).catch((err: unknown) => {
      authorityKey.current = null;
      throw err;
    });
    return authorityKey.current;
  }, [client, loaded.data]);

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
          <Link className="kern-link" to="/citizen">
            {t('common.back')}
          </Link>
        </p>
      </>
    );
  }
  const { document, threads, ring, history } = loaded.data;
  return (
    <>
      <p className="kern-body back-link">
        <Link className="kern-link" to="/citizen">
          <span className="kern-icon kern-icon--arrow-back kern-icon--small" aria-hidden="true" /> {t('citizen.backToList')}
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
        <StatusTimeline status={document.status} history={history} />
      </Section>
      {isDecided(document.status) || document.forwardedFrom ? (
        <Section title={t('decision.title')}>
          <CitizenDecision document={document} ring={ring} />
        </Section>
      ) : null}
      <Section title={t('document.details')}>
        <DocumentFacts document={document} />
      </Section>
      <Section title={t('threads.title')}>
        {threads.length === 0 ? <p className="kern-body">{t('threads.noneCitizen')}</p> : null}
        {threads.map((thread) => (
          <CitizenThread
            key={thread.id}
            liveVersion={live.messages[thread.id] ?? 0}
            client={client}
            thread={thread}
            ring={ring}
            keyFor={keyFor}
            onChange={updateThread}
          />
        ))}
      </Section>
      <Section title={t('threads.new')}>
        <NewRequest client={client} documentId={document.id} keyFor={keyFor} onCreated={updateThread} />
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

function CitizenThread({
  liveVersion,
  client,
  thread,
  ring,
  keyFor,
  onChange,
}: {
  /** Grows when the event stream says a message arrived in this thread. */
  liveVersion: number;
  client: DvdClient;
  thread: Thread;
  ring: KeyRing;
  keyFor: () => Promise<Jwk>;
  onChange: (t: Thread) => void;
}) {
  const { t } = useTranslation();
  const [version, setVersion] = useState(0);
  const open = thread.status === 'OPEN';
  return (
    <article className="thread kern-card" aria-labelledby={`thread-${thread.id}`} data-testid="thread">
      <div className="kern-card__container">
        <div className="kern-card__header">
          <h3 className="kern-heading-small" id={`thread-${thread.id}`}>
            {t(`threads.types.${thread.type}`)}
          </h3>
        </div>
        <div className="kern-card__body kern-stack-md">
          <ThreadFacts thread={thread} />
          <AppointmentActions client={client} thread={thread} onChange={onChange} />
          {thread.type === 'APPOINTMENT' && thread.appointment && !thread.appointment.confirmedSlot && open ? (
            <ConfirmAppointment client={client} thread={thread} onConfirmed={onChange} />
          ) : null}
          <ThreadMessages client={client} threadId={thread.id} ring={ring} viewer="citizen" version={version + liveVersion} />
          {open ? (
            <Composer
              label={`${t('messages.toAuthority')} – ${t(`threads.types.${thread.type}`)}`}
              send={async (text) => {
                await client.postMessage(thread.id, await encryptMessage({ text }, await keyFor()));
                setVersion((v) => v + 1);
              }}
            />
          ) : (
            <p className="kern-body kern-body--muted">{t('threads.closedHint')}</p>
          )}
        </div>
      </div>
    </article>
  );
}

function ConfirmAppointment({ client, thread, onConfirmed }: { client: DvdClient; thread: Thread; onConfirmed: (t: Thread) => void }) {
  const { t, i18n } = useTranslation();
  const [choice, setChoice] = useState('');
  const action = useAction();
  const slots = thread.appointment?.proposedSlots ?? [];
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!choice) return;
    const updated = await action.run(() => client.confirmAppointment(thread.id, { start: choice }));
    if (updated) onConfirmed(updated);
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="kern-stack-sm">
      <fieldset className="kern-fieldset">
        <legend className="kern-label">{t('appointment.choose')}</legend>
        <div className="kern-fieldset__body">
          {slots.map((s) => {
            const rid = `slot-${thread.id}-${s.start}`;
            return (
              <div className="kern-form-check" key={s.start}>
                <input
                  className="kern-form-check__radio"
                  type="radio"
                  id={rid}
                  name={`slot-${thread.id}`}
                  value={s.start}
                  checked={choice === s.start}
                  onChange={() => setChoice(s.start)}
                />
                <label className="kern-label" htmlFor={rid}>
                  {formatSlot(s.start, s.end, i18n.language)}
                </label>
              </div>
            );
          })}
        </div>
      </fieldset>
      <ErrorAlert error={action.error} />
      <Button type="submit" busy={action.busy} disabled={!choice} icon="calendar-today">
        {t('appointment.confirm')}
      </Button>
    </form>
  );
}

/** A new conversation: a message, or a callback request (the phone number only inside the encrypted message). */
function NewRequest({
  client,
  documentId,
  keyFor,
  onCreated,
}: {
  client: DvdClient;
  documentId: string;
  keyFor: () => Promise<Jwk>;
  onCreated: (t: Thread) => void;
}) {
  const { t } = useTranslation();
  const [kind, setKind] = useState<'CHAT' | 'CALLBACK'>('CHAT');
  const [text, setText] = useState('');
  const [phone, setPhone] = useState('');
  const inTwoHours = new Date(Date.now() + 2 * 3600_000);
  inTwoHours.setMinutes(0, 0, 0);
  const [from, setFrom] = useState(toLocalInput(inTwoHours));
  const [to, setTo] = useState(toLocalInput(new Date(inTwoHours.getTime() + 2 * 3600_000)));
  const [windowError, setWindowError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    setWindowError(null);
    let thread: Thread | undefined;
    if (kind === 'CHAT') {
      if (!text.trim()) return;
      thread = await action.run(async () => {
        const key = await keyFor();
        const blob = await encryptMessage({ text: text.trim() }, key);
        const created = await client.createThread(documentId, { type: 'CHAT' });
        await client.postMessage(created.id, blob);
        return created;
      });
    } else {
      const preferredFrom = localInputToIso(from);
      const preferredTo = localInputToIso(to);
      if (!preferredFrom || !preferredTo || Date.parse(preferredFrom) >= Date.parse(preferredTo)) {
        setWindowError(t('callback.windowError'));
        return;
      }
      const note = [phone.trim() ? `${t('callback.phone')}: ${phone.trim()}` : '', text.trim()].filter(Boolean).join('\n\n');
      thread = await action.run(async () => {
        const blob = note ? await encryptMessage({ text: note }, await keyFor()) : null;
        const created = await client.createThread(documentId, { type: 'CALLBACK', callback: { preferredFrom, preferredTo } });
        if (blob) await client.postMessage(created.id, blob);
        return created;
      });
    }
    if (thread) {
      setText('');
      setPhone('');
      setDone(kind === 'CHAT' ? t('threads.created') : t('callback.created'));
      onCreated(thread);
    }
  };

  return (
    <form className="kern-stack-md" onSubmit={(e) => void submit(e)}>
      <fieldset className="kern-fieldset">
        <legend className="kern-label">{t('threads.newKind')}</legend>
        <div className="kern-fieldset__body kern-fieldset__body--horizontal">
          {(['CHAT', 'CALLBACK'] as const).map((k) => (
            <div className="kern-form-check" key={k}>
              <input
                className="kern-form-check__radio"
                type="radio"
                id={`new-${k}`}
                name="new-kind"
                checked={kind === k}
                onChange={() => setKind(k)}
              />
              <label className="kern-label" htmlFor={`new-${k}`}>
                {t(`threads.newKinds.${k}`)}
              </label>
            </div>
          ))}
        </div>
      </fieldset>
      {kind === 'CALLBACK' ? (
        <>
          <div className="two-columns">
            <Field label={t('callback.from')} type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} required />
            <Field
              label={t('callback.to')}
              type="datetime-local"
              value={to}
              onChange={(e) => setTo(e.target.value)}
              error={windowError}
              required
            />
          </div>
          <Field
            label={t('callback.phone')}
            hint={t('callback.phoneHint')}
            type="tel"
            autoComplete="tel"
            value={phone}
            optional
            onChange={(e) => setPhone(e.target.value)}
          />
        </>
      ) : null}
      <TextArea
        label={kind === 'CHAT' ? t('messages.write') : t('callback.note')}
        hint={t('messages.encryptedHint')}
        value={text}
        onChange={setText}
        maxLength={10_000}
        required={kind === 'CHAT'}
      />
      <ErrorAlert error={action.error} />
      <Button type="submit" busy={action.busy} icon={kind === 'CHAT' ? 'mail' : 'calendar-today'}>
        {kind === 'CHAT' ? t('threads.startChat') : t('callback.request')}
      </Button>
      {done ? <Alert kind="success" title={done} /> : null}
    </form>
  );
}
