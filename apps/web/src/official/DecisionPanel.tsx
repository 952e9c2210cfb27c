/**
 * The authority's decision on a document (docs/case-workflow.md): accept; reject with a reason
 * from the fixed list and an optional note for the citizen, encrypted here to the citizen's
 * reply key (the platform never reads it); or forward to the responsible authority (see
 * ForwardForm). Offered to the official who holds a thread of the document and to admins; a
 * decision is final and shown instead of the form afterwards.
 */
import { encryptMessage, type DvdClient, type DvdDocument, type Jwk } from '@dvd/sdk';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { isDecided, MAX_NOTE_LENGTH, MAX_REJECT_NOTE_CHARS, REJECT_REASON_CODES, type RejectReason } from '../common/case';
import { useAction } from '../common/hooks';
import type { KeyRing } from '../common/messages';
import { Alert, Button, ErrorAlert, LiveRegion, Select, TextArea } from '../common/ui';
import { ForwardForm } from './ForwardForm';

type Choice = 'accept' | 'reject' | 'forward';
const CHOICES: readonly Choice[] = ['accept', 'reject', 'forward'];

export function DecisionPanel({
  client,
  document,
  ring,
  allowed,
  onDecided,
}: {
  client: DvdClient;
  document: DvdDocument;
  ring: KeyRing;
  /** Whether this person may decide (holds a thread, or is an admin). */
  allowed: boolean;
  onDecided: (d: DvdDocument) => void;
}) {
  const { t } = useTranslation();
  const [justDecided, setJustDecided] = useState(false);
  const summary = useRef<HTMLDivElement>(null);
  // the form that had the focus is gone: the outcome takes it
  useEffect(() => {
    if (justDecided) summary.current?.focus();
  }, [justDecided, document.status]);
  const decided = (d: DvdDocument) => {
    setJustDecided(true);
    onDecided(d);
  };

  if (isDecided(document.status)) {
    return (
      <div ref={summary} tabIndex={-1} className="decision-summary" data-testid="decision" data-status={document.status}>
        <DecisionSummary document={document} />
      </div>
    );
  }
  if (!allowed) {
    return (
      <Alert kind="info" title={t('decision.claimFirstTitle')}>
        <p className="kern-body">{t('decision.claimFirst')}</p>
      </Alert>
    );
  }
  return <DecisionForm client={client} document={document} ring={ring} onDecided={decided} />;
}

function DecisionSummary({ document }: { document: DvdDocument }) {
  const { t } = useTranslation();
  switch (document.status) {
    case 'ACCEPTED':
      return <Alert kind="success" title={t('decision.official.accepted')} />;
    case 'REJECTED':
      return (
        <Alert kind="warning" title={t('decision.official.rejected')}>
          <p className="kern-body" data-testid="rejection-reason" data-reason={document.rejection?.reasonCode}>
            {t('decision.reason')}: {document.rejection ? t(`reasons.${document.rejection.reasonCode}.title`) : '–'}
          </p>
          <p className="kern-body">{document.rejection?.note ? t('decision.official.noteSealed') : t('decision.noNote')}</p>
        </Alert>
      );
    case 'FORWARDED':
      return (
        <Alert kind="info" title={t('decision.official.forwarded')}>
          <p className="kern-body">{t('decision.official.forwardedText')}</p>
          {document.forwardedTo ? (
            <p className="kern-body">
              {t('decision.official.newDocument')}: <span className="mono">{document.forwardedTo}</span>
            </p>
          ) : null}
        </Alert>
      );
    default:
      return null;
  }
}

function DecisionForm({
  client,
  document,
  ring,
  onDecided,
}: {
  client: DvdClient;
  document: DvdDocument;
  ring: KeyRing;
  onDecided: (d: DvdDocument) => void;
}) {
  const { t } = useTranslation();
  const [choice, setChoice] = useState<Choice>('accept');
  const [reason, setReason] = useState<RejectReason>('INCOMPLETE');
  const [note, setNote] = useState('');
  const [noteError, setNoteError] = useState<string | null>(null);
  const action = useAction();
  const canWriteNote = !!document.replyKey;

  const accept = async (e: FormEvent) => {
    e.preventDefault();
    const updated = await action.run(() => client.acceptDocument(document.id));
    if (updated) onDecided(updated);
  };

  const reject = async (e: FormEvent) => {
    e.preventDefault();
    setNoteError(null);
    const text = note.trim();
    // "other" needs its explanation, as far as the citizen can be written to
    if (reason === 'OTHER' && !text && canWriteNote) {
      setNoteError(t('decision.errors.noteForOther'));
      window.document.getElementById('reject-note')?.focus();
      return;
    }
    const updated = await action.run(async () => {
      const blob = text && document.replyKey ? await encryptMessage({ text }, document.replyKey as Jwk) : undefined;
      if (blob && blob.length > MAX_REJECT_NOTE_CHARS) return 'too-long' as const;
      return client.rejectDocument(document.id, { reasonCode: reason, ...(blob ? { note: blob } : {}) });
    });
    if (updated === 'too-long') {
      setNoteError(t('decision.errors.noteTooLong'));
      window.document.getElementById('reject-note')?.focus();
    } else if (updated) {
      setNote('');
      onDecided(updated);
    }
  };

  return (
    <div className="kern-stack-md decision-form">
      <p className="kern-body" id="decision-final-hint">
        {t('decision.finalHint')}
      </p>
      <fieldset className="kern-fieldset" aria-describedby="decision-final-hint">
        <legend className="kern-label">{t('decision.choose')}</legend>
        <div className="kern-fieldset__body kern-fieldset__body--horizontal">
          {CHOICES.map((c) => (
            <div className="kern-form-check" key={c}>
              <input
                className="kern-form-check__radio"
                type="radio"
                id={`decision-${c}`}
                name="decision"
                checked={choice === c}
                disabled={action.busy}
                onChange={() => {
                  setChoice(c);
                  action.clear();
                }}
              />
              <label className="kern-label" htmlFor={`decision-${c}`}>
                {t(`decision.choices.${c}`)}
              </label>
            </div>
          ))}
        </div>
      </fieldset>

      {choice === 'accept' ? (
        <form className="kern-stack-md" onSubmit={(e) => void accept(e)} aria-label={t('decision.choices.accept')}>
          <p className="kern-body">{t('decision.acceptText')}</p>
          <ErrorAlert error={action.error} />
          <Button type="submit" icon="check" busy={action.busy}>
            {t('decision.accept')}
          </Button>
        </form>
      ) : null}

      {choice === 'reject' ? (
        <form className="kern-stack-md" onSubmit={(e) => void reject(e)} noValidate aria-label={t('decision.choices.reject')}>
          <Select
            id="reject-reason"
            label={t('decision.reason')}
            hint={t(`reasons.${reason}.hint`)}
            value={reason}
            onChange={(v) => setReason(v as RejectReason)}
            options={REJECT_REASON_CODES.map((r) => ({ value: r, label: t(`reasons.${r}.title`) }))}
          />
          <TextArea
            id="reject-note"
            label={t('decision.noteForCitizen')}
            hint={canWriteNote ? t('decision.noteHint') : t('official.noReplyKey')}
            value={note}
            onChange={(v) => {
              setNote(v);
              setNoteError(null);
            }}
            error={noteError}
            optional={reason !== 'OTHER' || !canWriteNote}
            maxLength={MAX_NOTE_LENGTH}
            disabled={!canWriteNote || action.busy}
          />
          <ErrorAlert error={action.error} />
          <Button type="submit" icon="close" busy={action.busy}>
            {t('decision.reject')}
          </Button>
        </form>
      ) : null}

      {choice === 'forward' ? <ForwardForm client={client} document={document} ring={ring} onForwarded={onDecided} /> : null}
      <LiveRegion>{action.busy ? t('decision.sending') : ''}</LiveRegion>
    </div>
  );
}
