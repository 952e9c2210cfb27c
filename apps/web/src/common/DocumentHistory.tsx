/**
 * A document's history (GET /documents/{id}/history): each step, when, and the role that made
 * it — never a name. Shown to the citizen and to the authority's staff alike.
 */
import type { DocumentHistoryEntry, DvdClient } from '@dvd/sdk';
import { useTranslation } from 'react-i18next';
import { formatDateTime } from './format';

const PAGE = 100;
/** A document has a handful of steps; more pages than this would be a fault, not a history. */
const MAX_PAGES = 10;

/** Every entry, oldest first (as the platform pages them). */
export async function loadHistory(client: DvdClient, id: string, signal?: AbortSignal): Promise<DocumentHistoryEntry[]> {
  const all: DocumentHistoryEntry[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await client.getDocumentHistory(id, { limit: PAGE, cursor });
    all.push(...page.items);
    if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
    cursor = page.nextCursor ?? undefined;
    if (!cursor) break;
  }
  return all;
}

export function DocumentHistory({ entries }: { entries: readonly DocumentHistoryEntry[] }) {
  const { t, i18n } = useTranslation();
  if (entries.length === 0) return <p className="kern-body">{t('history.none')}</p>;
  return (
    <ol className="history" aria-label={t('history.title')} data-testid="history">
      {entries.map((e, i) => (
        <li key={`${e.at}-${i}`} className="history__entry" data-state={e.state}>
          <p className="kern-body history__state">
            <strong>{t(`status.${e.state}`)}</strong>
            {e.reasonCode ? ` – ${t(`reasons.${e.reasonCode}.title`)}` : ''}
          </p>
          <p className="kern-body kern-body--small history__meta">
            <time dateTime={e.at}>{formatDateTime(e.at, i18n.language)}</time>
            {' · '}
            {t('history.by', { role: t(`history.actors.${e.actorRole}`) })}
          </p>
        </li>
      ))}
    </ol>
  );
}
