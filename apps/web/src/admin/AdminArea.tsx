/** The authority admin's part of the app (a lazy chunk): units, routing rules, keys, ingest settings. */
import type { Authority } from '@dvd/sdk';
import { createContext, useContext } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink, Route, Routes } from 'react-router';
import { useServices, useSession } from '../app/context';
import { NotFound } from '../pages/NotFound';
import { useLoad } from '../common/hooks';
import { Alert, ErrorAlert, Loading } from '../common/ui';
import { IngestSettings } from './IngestSettings';
import { KeysAdmin } from './KeysAdmin';
import { RulesAdmin } from './RulesAdmin';
import { UnitsAdmin } from './UnitsAdmin';

interface AdminCtx {
  authority: Authority;
  setAuthority: (a: Authority) => void;
  reload: () => void;
}
const Ctx = createContext<AdminCtx | null>(null);

export function useAdmin(): AdminCtx {
  const v = useContext(Ctx);
  if (!v) throw new Error('AdminArea is missing');
  return v;
}

export default function AdminArea() {
  const { t } = useTranslation();
  const { client } = useServices();
  const session = useSession();
  const authorityId = session.authorityId;
  const loaded = useLoad(async () => (authorityId ? client.getAuthority(authorityId) : null), [client, authorityId]);

  if (!authorityId) return <Alert kind="danger" title={t('admin.noAuthority')} />;
  if (loaded.loading && !loaded.data) return <Loading />;
  if (!loaded.data) return <ErrorAlert error={loaded.error} />;
  const ctx: AdminCtx = { authority: loaded.data, setAuthority: (a) => loaded.setData(() => a), reload: loaded.reload };
  const links: Array<[string, string]> = [
    ['/admin', t('admin.nav.units')],
    ['/admin/rules', t('admin.nav.rules')],
    ['/admin/keys', t('admin.nav.keys')],
    ['/admin/settings', t('admin.nav.settings')],
  ];
  return (
    <Ctx.Provider value={ctx}>
      <nav className="sub-nav" aria-label={t('admin.nav.label')}>
        <ul className="kern-list kern-list--horizontal">
          {links.map(([to, label]) => (
            <li key={to}>
              <NavLink className="kern-link" to={to} end>
                {label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <Routes>
        <Route index element={<UnitsAdmin />} />
        <Route path="rules" element={<RulesAdmin />} />
        <Route path="keys" element={<KeysAdmin />} />
        <Route path="settings" element={<IngestSettings />} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </Ctx.Provider>
  );
}
