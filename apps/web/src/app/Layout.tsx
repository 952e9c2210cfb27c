import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, NavLink } from 'react-router';
import { homeOf, isAdmin, isStaff } from '../auth/roles';
import { LANGUAGES, setLanguage, type Language } from '../i18n';
import { Button } from '../common/ui';
import { LiveConnection, LiveIndicator } from '../live/hooks';
import { useAuthState, useServices } from './context';

/** Landmarks: a skip link, the banner with navigation, language and logout, the main region, the footer. */
export function Layout({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const state = useAuthState();
  const session = state.status === 'authenticated' ? state.session : null;
  return (
    <div className="app">
      <LiveConnection />
      <a className="skip-link kern-link" href="#main">
        {t('layout.skip')}
      </a>
      <header className="app-header">
        <div className="kern-container app-header__bar">
          <p className="app-header__brand">
            <Link className="app-header__home" to={session ? homeOf(session.role) : '/'}>
              <span className="app-header__logo" aria-hidden="true" />
              <span className="kern-title">{t('app.name')}</span>
            </Link>
            <span className="kern-body kern-body--small app-header__claim">{t('app.claim')}</span>
          </p>
          <div className="app-header__tools">
            {session ? <LiveIndicator /> : null}
            <LanguageSwitch />
            {session ? <UserMenu /> : null}
          </div>
        </div>
        {session ? (
          <nav className="kern-container app-nav" aria-label={t('layout.nav')}>
            <ul className="kern-list kern-list--horizontal">
              {session.role === 'citizen' ? (
                <li>
                  <NavLink className="kern-link" to="/citizen">
                    {t('layout.myDocuments')}
                  </NavLink>
                </li>
              ) : null}
              {isStaff(session.role) ? (
                <li>
                  <NavLink className="kern-link" to="/official">
                    {t('layout.inbox')}
                  </NavLink>
                </li>
              ) : null}
              {isAdmin(session.role) ? (
                <li>
                  <NavLink className="kern-link" to="/admin">
                    {t('layout.admin')}
                  </NavLink>
                </li>
              ) : null}
            </ul>
          </nav>
        ) : null}
      </header>
      <main id="main" className="kern-container app-main" tabIndex={-1}>
        {children}
      </main>
      <footer className="app-footer">
        <div className="kern-container">
          <p className="kern-body kern-body--small">{t('layout.footer')}</p>
        </div>
      </footer>
    </div>
  );
}

function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  const current = (i18n.resolvedLanguage ?? i18n.language) as Language;
  return (
    <div className="lang-switch" role="group" aria-label={t('layout.language')}>
      {LANGUAGES.map((l) => (
        <button
          key={l}
          type="button"
          className={`kern-btn kern-btn--x-small ${l === current ? 'kern-btn--primary' : 'kern-btn--tertiary'}`}
          lang={l}
          aria-pressed={l === current}
          onClick={() => setLanguage(l)}
        >
          <span className="kern-label">{l === 'de' ? 'Deutsch' : 'English'}</span>
        </button>
      ))}
    </div>
  );
}

function UserMenu() {
  const { t } = useTranslation();
  const { auth } = useServices();
  const state = useAuthState();
  const [busy, setBusy] = useState(false);
  if (state.status !== 'authenticated') return null;
  const { session } = state;
  return (
    <div className="user-menu">
      <p className="kern-body kern-body--small user-menu__who">
        <span className="kern-icon kern-icon--account-circle kern-icon--small" aria-hidden="true" />{' '}
        {session.name ?? t(`roles.${session.role}`)}
        {session.authorityId ? ` · ${session.authorityId}` : ''}
        <span className="kern-sr-only"> ({t(`roles.${session.role}`)})</span>
      </p>
      <Button
        variant="secondary"
        small
        icon="logout"
        busy={busy}
        onClick={() => {
          setBusy(true);
          void auth.logout().finally(() => setBusy(false));
        }}
      >
        {t('auth.logout')}
      </Button>
    </div>
  );
}
