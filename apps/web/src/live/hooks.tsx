import type { DvdStreamItem } from '@dvd/sdk';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { useAuthState, useServices } from '../app/context';
import type { LiveStatus } from './live';
import { documentAction } from './routing';

/** Starts the session's event stream after login and stops it at logout (one per session). */
export function LiveConnection() {
  const { live } = useServices();
  const state = useAuthState();
  const user = state.status === 'authenticated' ? `${state.session.issuer} ${state.session.sub}` : null;
  useEffect(() => {
    if (!user) return;
    live.start();
    return () => live.stop();
  }, [live, user]);
  return null;
}

export function useLiveStatus(): LiveStatus {
  const { live } = useServices();
  return useSyncExternalStore(live.onStatus, live.getStatus);
}

/** Calls `handler` (the latest one) for each event of the stream while the view is shown. */
export function useLiveEvent(handler: (item: DvdStreamItem) => void): void {
  const { live } = useServices();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => live.subscribe((item) => ref.current(item)), [live]);
}

/** `fn` (the latest one), called once `ms` after the last of a burst of calls; cancelled when the view goes away. */
export function useDebounced(fn: () => void, ms: number): () => void {
  const ref = useRef(fn);
  ref.current = fn;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const call = useRef(() => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      timer.current = null;
      ref.current();
    }, ms);
  });
  return call.current;
}

/** A discreet sign in the header: updates arrive live, or the connection is being restored. */
export function LiveIndicator() {
  const { t } = useTranslation();
  const status = useLiveStatus();
  if (status === 'off' || status === 'connecting') return null;
  return (
    <span
      className={`live-indicator live-indicator--${status} kern-body kern-body--small`}
      data-testid="live-indicator"
      data-status={status}
    >
      <span className="live-indicator__dot" aria-hidden="true" />
      {status === 'live' ? t('live.on') : t('live.reconnecting')}
    </span>
  );
}

/** A polite live region: `message` is announced each time `count` grows. */
export function LiveAnnouncer({ message, count }: { message: string; count: number }) {
  return (
    <div className="kern-sr-only" aria-live="polite" aria-atomic="true" data-testid="live-announcer">
      {count > 0 ? <span key={count}>{message}</span> : null}
    </div>
  );
}

/**
 * A document page's live updates: `reload` (debounced) when the document or its threads
 * change; `messages[threadId]` grows when a message arrives in a shown thread (its messages
 * reload); `arrived` counts those messages (for the announcement).
 */
export function useDocumentLive(documentId: string, threadIds: readonly string[], reload: () => void) {
  const [messages, setMessages] = useState<Record<string, number>>({});
  const [arrived, setArrived] = useState(0);
  const debouncedReload = useDebounced(reload, 300);
  useLiveEvent((item) => {
    const action = documentAction(item, documentId, threadIds);
    if (action.kind === 'reload') {
      debouncedReload();
      if (item.type === 'message.created') setArrived((n) => n + 1);
    } else if (action.kind === 'messages') {
      setMessages((m) => ({ ...m, [action.threadId]: (m[action.threadId] ?? 0) + 1 }));
      setArrived((n) => n + 1);
    }
  });
  return { messages, arrived };
}
