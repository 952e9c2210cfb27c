/**
 * A thread's messages, decrypted in the browser. Each message is a JWE to the other side:
 * the citizen reads officials' replies with a reply key from IndexedDB, officials read the
 * citizen's messages with the authority key they imported. A message made for the other
 * side (one's own) cannot be opened here and says so.
 */
import { containerKid, decryptMessage, DvdCryptoError, type DvdClient, type Message, type Thread } from '@dvd/sdk';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { saveBytes } from './download';
import { formatDateTime, formatSlot } from './format';
import { useAction, useLoad } from './hooks';
import { Button, ErrorAlert, LiveRegion, Loading, TextArea } from './ui';

/** Private keys by `kid` (non-extractable CryptoKeys). */
export type KeyRing = ReadonlyMap<string, CryptoKey>;

export interface ShownMessage {
  message: Message;
  /** The text, or null when no key here opens it. */
  text: string | null;
}

const MESSAGE_PAGE = 100;
export const MAX_MESSAGE_LENGTH = 20_000;

/** Opens one message with the key its `kid` names (or the only key, if the JWE names none). */
export async function openMessage(contentBlob: string, ring: KeyRing): Promise<string | null> {
  let kid: string | undefined;
  try {
    kid = containerKid(contentBlob);
  } catch {
    return null;
  }
  const key = kid ? ring.get(kid) : ring.size === 1 ? [...ring.values()][0] : undefined;
  if (!key) return null;
  try {
    return (await decryptMessage(contentBlob, key)).text;
  } catch (err) {
    if (err instanceof DvdCryptoError) return null;
    throw err;
  }
}

/** Every message of a thread, oldest first, opened where a key of the ring fits. */
export async function loadMessages(client: DvdClient, threadId: string, ring: KeyRing, signal?: AbortSignal): Promise<ShownMessage[]> {
  const all: Message[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listMessages(threadId, { limit: MESSAGE_PAGE, cursor });
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
    if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
  } while (cursor);
  all.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  return Promise.all(all.map(async (message) => ({ message, text: await openMessage(message.contentBlob, ring) })));
}

export type Viewer = 'citizen' | 'staff';

export function MessageList({ messages, viewer }: { messages: ShownMessage[]; viewer: Viewer }) {
  const { t, i18n } = useTranslation();
  if (messages.length === 0) return <p className="kern-body kern-body--muted">{t('messages.none')}</p>;
  return (
    <ol className="messages" aria-label={t('messages.list')}>
      {messages.map(({ message, text }) => {
        const fromCitizen = message.senderRole === 'citizen';
        const own = viewer === 'citizen' ? fromCitizen : !fromCitizen;
        return (
          <li key={message.id} className={`message ${own ? 'message--own' : 'message--other'}`}>
            <p className="message__meta kern-body kern-body--small">
              <span className="message__sender">{fromCitizen ? t('messages.fromCitizen') : t('messages.fromAuthority')}</span>
              {' · '}
              <time dateTime={message.createdAt}>{formatDateTime(message.createdAt, i18n.language)}</time>
            </p>
            {text !== null ? (
              <p className="message__text kern-body" data-testid="message-text">
                {text}
              </p>
            ) : (
              <p className="message__sealed kern-body kern-body--muted">{own ? t('messages.sealedOwn') : t('messages.sealedOther')}</p>
            )}
          </li>
        );
      })}
    </ol>
  );
}

/** Loads and shows a thread's messages; `version` changes reload them. */
export function ThreadMessages({
  client,
  threadId,
  ring,
  viewer,
  version,
}: {
  client: DvdClient;
  threadId: string;
  ring: KeyRing;
  viewer: Viewer;
  version: number;
}) {
  const loaded = useLoad((signal) => loadMessages(client, threadId, ring, signal), [client, threadId, ring, version]);
  if (loaded.loading && !loaded.data) return <Loading />;
  return (
    <>
      <ErrorAlert error={loaded.error} />
      {loaded.data ? <MessageList messages={loaded.data} viewer={viewer} /> : null}
    </>
  );
}

/** Writes a message; `send` encrypts and posts it. */
export function Composer({ send, label, disabled }: { send: (text: string) => Promise<unknown>; label?: string; disabled?: boolean }) {
  const { t } = useTranslation();
  const [text, setText] = useState('');
  const [sent, setSent] = useState(0);
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const value = text.trim();
    if (!value) return;
    const ok = await action.run(async () => {
      await send(value);
      return true;
    });
    if (ok) {
      setText('');
      setSent((n) => n + 1);
    }
  };
  return (
    <form className="composer kern-stack-sm" onSubmit={(e) => void submit(e)}>
      <TextArea
        label={label ?? t('messages.write')}
        hint={t('messages.encryptedHint')}
        value={text}
        onChange={setText}
        maxLength={MAX_MESSAGE_LENGTH}
        disabled={disabled}
        required
      />
      <ErrorAlert error={action.error} />
      <Button type="submit" busy={action.busy} disabled={disabled || !text.trim()} icon="mail">
        {t('messages.send')}
      </Button>
      <LiveRegion>{action.busy ? t('messages.sending') : sent > 0 ? t('messages.sent') : ''}</LiveRegion>
    </form>
  );
}

/** What a thread is about: type, state, the callback window, the appointment. */
export function ThreadFacts({ thread }: { thread: Thread }) {
  const { t, i18n } = useTranslation();
  return (
    <dl className="kern-description-list facts">
      <div className="kern-description-list-item">
        <dt className="kern-description-list-item__key">{t('threads.state')}</dt>
        <dd className="kern-description-list-item__value">
          {t(`threads.status.${thread.status}`)}
          {' · '}
          {thread.assigned ? t('threads.assigned') : t('threads.unassigned')}
        </dd>
      </div>
      {thread.callback ? (
        <div className="kern-description-list-item">
          <dt className="kern-description-list-item__key">{t('threads.callbackWindow')}</dt>
          <dd className="kern-description-list-item__value">
            {formatSlot(thread.callback.preferredFrom, thread.callback.preferredTo, i18n.language)}
          </dd>
        </div>
      ) : null}
      {thread.appointment?.confirmedSlot ? (
        <div className="kern-description-list-item">
          <dt className="kern-description-list-item__key">{t('threads.confirmedSlot')}</dt>
          <dd className="kern-description-list-item__value" data-testid="confirmed-slot">
            {formatSlot(thread.appointment.confirmedSlot.start, thread.appointment.confirmedSlot.end, i18n.language)}
          </dd>
        </div>
      ) : null}
      <div className="kern-description-list-item">
        <dt className="kern-description-list-item__key">{t('threads.lastActivity')}</dt>
        <dd className="kern-description-list-item__value">{formatDateTime(thread.lastActivityAt, i18n.language)}</dd>
      </div>
    </dl>
  );
}

/**
 * A confirmed appointment: save it as a calendar file (RFC 5545, made by the platform
 * without names or Aktenzeichen) or cancel it, which frees the official's time; a new
 * slot is then agreed in the thread.
 */
export function AppointmentActions({ client, thread, onChange }: { client: DvdClient; thread: Thread; onChange: (t: Thread) => void }) {
  const { t } = useTranslation();
  const action = useAction();
  const [asking, setAsking] = useState(false);
  if (!thread.appointment?.confirmedSlot) return null;
  const download = () =>
    void action.run(async () => {
      const ics = await client.getAppointmentCalendar(thread.id);
      saveBytes(ics, `termin-${thread.id}.ics`, 'text/calendar');
    });
  const cancel = () =>
    void action
      .run(() => client.cancelAppointment(thread.id))
      .then((x) => {
        setAsking(false);
        if (x) onChange(x);
      });
  return (
    <div className="kern-stack-sm" data-testid="appointment-actions">
      <div className="kern-btn-wrapper actions">
        <Button variant="secondary" small onClick={download} busy={action.busy} icon="download">
          {t('appointment.calendar')}
        </Button>
        {thread.status === 'OPEN' && !asking ? (
          <Button variant="tertiary" small onClick={() => setAsking(true)}>
            {t('appointment.cancel')}
          </Button>
        ) : null}
      </div>
      {asking ? (
        <div className="kern-btn-wrapper actions" role="group" aria-label={t('appointment.cancelQuestion')}>
          <p className="kern-body">{t('appointment.cancelQuestion')}</p>
          <Button variant="primary" small onClick={cancel} busy={action.busy}>
            {t('appointment.cancelConfirm')}
          </Button>
          <Button variant="tertiary" small onClick={() => setAsking(false)}>
            {t('appointment.keep')}
          </Button>
        </div>
      ) : null}
      <ErrorAlert error={action.error} />
    </div>
  );
}
