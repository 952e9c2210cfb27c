import type { DvdDocument } from '@dvd/sdk';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useServices } from '../app/context';
import { DocumentRow } from '../common/DocumentRow';
import { useAction, useLoad } from '../common/hooks';
import { Button, ErrorAlert, Loading, PageTitle, Section } from '../common/ui';
import { useDebounced, useLiveEvent } from '../live/hooks';
import { touchesCitizenList } from '../live/routing';
import { KeyBackup } from './KeyBackup';
import { UploadForm } from './UploadForm';

const PAGE = 20;

/** The citizen's start: send a document, see the documents sent. */
export function CitizenHome() {
  const { t } = useTranslation();
  const { client } = useServices();
  const [more, setMore] = useState<{ items: DvdDocument[]; cursor: string | null }>({ items: [], cursor: null });
  const list = useLoad(async () => {
    const page = await client.listDocuments({ limit: PAGE });
    setMore({ items: [], cursor: page.nextCursor });
    return page.items;
  }, [client]);
  // live: a status change of one of the documents (routed, taken up, decided) reloads the list
  const reloadSoon = useDebounced(list.reload, 400);
  useLiveEvent((item) => {
    if (touchesCitizenList(item)) reloadSoon();
  });
  const loadMore = useAction();
  // the first upload makes the reply key: the key section shows it then
  const [uploads, setUploads] = useState(0);

  const documents = [...(list.data ?? []), ...more.items];
  return (
    <>
      <PageTitle title={t('citizen.title')}>{t('citizen.title')}</PageTitle>
      <Section title={t('upload.title')}>
        <UploadForm
          onSent={(d) => {
            list.setData((prev) => [d, ...(prev ?? []).filter((x) => x.id !== d.id)]);
            setUploads((n) => n + 1);
          }}
        />
      </Section>
      <Section title={t('citizen.documents')}>
        <div className="kern-btn-wrapper actions">
          <Button variant="secondary" icon="autorenew" onClick={list.reload} busy={list.loading}>
            {t('common.refresh')}
          </Button>
        </div>
        <ErrorAlert error={list.error} />
        {list.loading && !list.data ? <Loading /> : null}
        {list.data && documents.length === 0 ? <p className="kern-body">{t('citizen.noDocuments')}</p> : null}
        {documents.length > 0 ? (
          <ul className="doc-list" aria-label={t('citizen.documents')}>
            {documents.map((d) => (
              <DocumentRow key={d.id} document={d} to={`/citizen/documents/${d.id}`} />
            ))}
          </ul>
        ) : null}
        <ErrorAlert error={loadMore.error} />
        {more.cursor ? (
          <Button
            variant="secondary"
            busy={loadMore.busy}
            onClick={() =>
              void loadMore.run(async () => {
                const page = await client.listDocuments({ limit: PAGE, cursor: more.cursor ?? undefined });
                setMore((m) => ({ items: [...m.items, ...page.items], cursor: page.nextCursor }));
              })
            }
          >
            {t('common.more')}
          </Button>
        ) : null}
      </Section>
      <Section title={t('keys.title')}>
        <KeyBackup version={uploads} />
      </Section>
    </>
  );
}
