/**
 * The authority's inbox. "Unassigned", "Mine" and "All conversations" list threads
 * (GET /threads?assigned=none|me, newest activity first) with their documents; "All
 * documents" lists documents (newest first; filters: unit, status, overdue — the escalation
 * inbox, `?overdue=true` in the app's address as in the API's), including those nobody has
 * written about yet. Paged with "more". Reloads by itself when the event stream says something changed.
 */
import type { DvdClient, DvdDocument, Thread } from '@dvd/sdk';
import { useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { useServices, useSession } from '../app/context';
import { DocumentRow } from '../common/DocumentRow';
import { formatDateTime } from '../common/format';
import { useAction, useLoad } from '../common/hooks';
import { DOCUMENT_STATUSES } from '../common/case';
import { Button, ErrorAlert, Loading, PageTitle, Section, Select } from '../common/ui';
import { useDebounced, useLiveEvent } from '../live/hooks';
import { touchesInbox } from '../live/routing';

const VIEWS = ['documents', 'unassigned', 'mine', 'threads'] as const;
type View = (typeof VIEWS)[number];
const PAGE = 20;

export function Inbox() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const view: View = (VIEWS as readonly string[]).includes(params.get('view') ?? '') ? (params.get('view') as View) : 'documents';
  return (
    <>
      <PageTitle title={t('inbox.title')}>{t('inbox.title')}</PageTitle>
      <nav aria-label={t('inbox.views')} className="view-switch">
        <ul className="kern-list kern-list--horizontal">
          {VIEWS.map((v) => (
            <li key={v}>
              <Button variant={v === view ? 'primary' : 'secondary'} small aria-pressed={v === view} onClick={() => setParams({ view: v })}>
                {t(`inbox.view.${v}`)}
              </Button>
            </li>
          ))}
        </ul>
      </nav>
      {view === 'documents' ? (
        <DocumentsView />
      ) : (
        <ThreadsView key={view} assigned={view === 'unassigned' ? 'none' : view === 'mine' ? 'me' : undefined} />
      )}
    </>
  );
}

function DocumentsView() {
  const { t } = useTranslation();
  const { client } = useServices();
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const overdue = params.get('overdue') === 'true';
  const setOverdue = (on: boolean) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        if (on) next.set('overdue', 'true');
        else next.delete('overdue');
        return next;
      },
      { replace: true },
    );
  const [unitId, setUnitId] = useState('');
  const [status, setStatus] = useState('');
  const authority = useLoad(
    async () => (session.authorityId ? client.getAuthority(session.authorityId) : null),
    [client, session.authorityId],
  );
  const query = useMemo(
    () => ({
      ...(unitId ? { unitId } : {}),
      ...(status ? { status: status as DvdDocument['status'] } : {}),
      ...(overdue ? { overdue: true } : {}),
    }),
    [unitId, status, overdue],
  );
  const pager = usePager((cursor) => client.listDocuments({ ...query, limit: PAGE, cursor }), [client, query]);
  return (
    <Section title={overdue ? t('inbox.overdueTitle') : t('inbox.view.documents')}>
      <div className="filters two-columns">
        <Select
          label={t('inbox.unit')}
          value={unitId}
          onChange={setUnitId}
          options={[
            { value: '', label: t('inbox.allUnits') },
            ...(authority.data?.units ?? []).map((u) => ({ value: u.id, label: `${u.name} (${u.id})` })),
          ]}
        />
        <Select
          label={t('inbox.status')}
          value={status}
          onChange={setStatus}
          options={[{ value: '', label: t('inbox.allStatuses') }, ...DOCUMENT_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))]}
        />
      </div>
      <div className="kern-form-check filters">
        <input
          className="kern-form-check__checkbox"
          type="checkbox"
          id="inbox-overdue"
          checked={overdue}
          aria-describedby="inbox-overdue-hint"
          onChange={(e) => setOverdue(e.target.checked)}
        />
        <label className="kern-label" htmlFor="inbox-overdue">
          {t('inbox.overdueOnly')}
        </label>
        <div className="kern-hint" id="inbox-overdue-hint">
          {t('inbox.overdueHint')}
        </div>
      </div>
      <PagedList
        pager={pager}
        empty={overdue ? t('inbox.noOverdue') : t('inbox.noDocuments')}
        render={(items: DvdDocument[]) => (
          <ul className="doc-list" aria-label={t('inbox.view.documents')}>
            {items.map((d) => (
              <DocumentRow key={d.id} document={d} to={`/official/documents/${d.id}`} />
            ))}
          </ul>
        )}
      />
    </Section>
  );
}

function ThreadsView({ assigned }: { assigned?: 'me' | 'none' }) {
  const { t } = useTranslation();
  const { client } = useServices();
  const docs = useMemo(() => new DocumentCache(client), [client]);
  const pager = usePager(
    async (cursor) => {
      const page = await client.listThreads({ ...(assigned ? { assigned } : {}), limit: PAGE, cursor });
      const items = await Promise.all(page.items.map(async (thread) => ({ thread, document: await docs.get(thread.documentId) })));
      return { items, nextCursor: page.nextCursor };
    },
    [client, assigned, docs],
  );
  const title = t(`inbox.view.${assigned === 'none' ? 'unassigned' : assigned === 'me' ? 'mine' : 'threads'}`);
  return (
    <Section title={title}>
      <PagedList
        pager={pager}
        empty={t('inbox.noThreads')}
        render={(items: Array<{ thread: Thread; document: DvdDocument | null }>) => (
          <ul className="doc-list" aria-label={title}>
            {items.map(({ thread, document }) =>
              document ? (
                <DocumentRow
                  key={thread.id}
                  document={document}
                  to={`/official/documents/${document.id}`}
                  extra={
                    <ThreadLine
                      thread={thread}
                      onChange={(next) => pager.replace((x) => (x.thread.id === next.id ? { ...x, thread: next } : x))}
                    />
                  }
                />
              ) : null,
            )}
          </ul>
        )}
      />
    </Section>
  );
}

/** A thread in an inbox row: type, activity, claim or release. */
function ThreadLine({ thread, onChange }: { thread: Thread; onChange: (t: Thread) => void }) {
  const { t, i18n } = useTranslation();
  const { client } = useServices();
  const session = useSession();
  const action = useAction();
  const mine = thread.assignedOfficialId === session.sub;
  return (
    <div className="thread-line">
      <p className="kern-body kern-body--small">
        {t(`threads.types.${thread.type}`)} · {t(`threads.status.${thread.status}`)} ·{' '}
        {mine ? t('threads.assignedToMe') : thread.assigned ? t('threads.assigned') : t('threads.unassigned')} · {t('threads.lastActivity')}{' '}
        <time dateTime={thread.lastActivityAt}>{formatDateTime(thread.lastActivityAt, i18n.language)}</time>
      </p>
      {thread.status === 'OPEN' ? (
        <div className="kern-btn-wrapper">
          {!thread.assigned ? (
            <Button
              small
              variant="secondary"
              busy={action.busy}
              onClick={() => void action.run(() => client.claimThread(thread.id)).then((x) => x && onChange(x))}
            >
              {t('threads.claim')}
            </Button>
          ) : null}
          {mine ? (
            <Button
              small
              variant="tertiary"
              busy={action.busy}
              onClick={() => void action.run(() => client.releaseThread(thread.id)).then((x) => x && onChange(x))}
            >
              {t('threads.release')}
            </Button>
          ) : null}
        </div>
      ) : null}
      <ErrorAlert error={action.error} />
    </div>
  );
}

/** Documents by id, each fetched once per inbox (threads name only the document id). */
class DocumentCache {
  private readonly cache = new Map<string, Promise<DvdDocument | null>>();
  constructor(private readonly client: DvdClient) {}
  get(id: string): Promise<DvdDocument | null> {
    let p = this.cache.get(id);
    if (!p) {
      p = this.client.getDocument(id).catch(() => null);
      this.cache.set(id, p);
    }
    return p;
  }
}

interface Pager<T> {
  items: T[];
  loading: boolean;
  error: unknown;
  hasMore: boolean;
  more: () => void;
  reload: () => void;
  replace: (f: (item: T) => T) => void;
}

function usePager<T>(load: (cursor?: string) => Promise<{ items: T[]; nextCursor: string | null }>, deps: readonly unknown[]): Pager<T> {
  const [extra, setExtra] = useState<{ items: T[]; cursor: string | null; error: unknown; busy: boolean }>({
    items: [],
    cursor: null,
    error: undefined,
    busy: false,
  });
  const first = useLoad(async () => {
    const page = await load();
    setExtra({ items: [], cursor: page.nextCursor, error: undefined, busy: false });
    return page.items;
  }, deps);
  const more = () => {
    if (!extra.cursor || extra.busy) return;
    setExtra((e) => ({ ...e, busy: true }));
    load(extra.cursor).then(
      (page) => setExtra((e) => ({ items: [...e.items, ...page.items], cursor: page.nextCursor, error: undefined, busy: false })),
      (err: unknown) => setExtra((e) => ({ ...e, error: err, busy: false })),
    );
  };
  return {
    items: [...(first.data ?? []), ...extra.items],
    loading: first.loading || extra.busy,
    error: first.error ?? extra.error,
    hasMore: !!extra.cursor,
    more,
    reload: first.reload,
    replace: (f) => {
      first.setData((d) => d?.map(f));
      setExtra((e) => ({ ...e, items: e.items.map(f) }));
    },
  };
}

function PagedList<T>({ pager, render, empty }: { pager: Pager<T>; render: (items: T[]) => ReactNode; empty: string }) {
  const { t } = useTranslation();
  // live: a new document, a status change, a claim or a message reloads the list (once for a burst of events)
  const reload = useDebounced(pager.reload, 400);
  useLiveEvent((item) => {
    if (touchesInbox(item)) reload();
  });
  return (
    <div className="kern-stack-md">
      <div className="kern-btn-wrapper actions">
        <Button variant="secondary" icon="autorenew" onClick={pager.reload} busy={pager.loading}>
          {t('common.refresh')}
        </Button>
      </div>
      <ErrorAlert error={pager.error} />
      {pager.loading && pager.items.length === 0 ? <Loading /> : null}
      {!pager.loading && pager.items.length === 0 && !pager.error ? <p className="kern-body">{empty}</p> : null}
      {pager.items.length > 0 ? render(pager.items) : null}
      {pager.hasMore ? (
        <Button variant="secondary" onClick={pager.more} busy={pager.loading}>
          {t('common.more')}
        </Button>
      ) : null}
    </div>
  );
}
