import { lazy, Suspense, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { BrowserRouter, Link, Navigate, Route, Routes, useLocation } from 'react-router';
import { homeOf, isAdmin, isStaff, type ApiRole } from '../auth/roles';
import { CitizenDocument } from '../citizen/CitizenDocument';
import { CitizenHome } from '../citizen/CitizenHome';
import { CallbackPage } from '../pages/CallbackPage';
import { NotFound } from '../pages/NotFound';
import { StartPage } from '../pages/StartPage';
import { Alert, Loading } from '../common/ui';
import { useAuthState } from './context';
import { Layout } from './Layout';

// officials' and admins' parts are separate chunks: a citizen's first load does not carry them
const OfficialArea = lazy(() => import('../official/OfficialArea'));
const AdminArea = lazy(() => import('../admin/AdminArea'));

export function App() {
  return (
    <BrowserRouter>
      <Layout>
        <Suspense fallback={<Loading />}>
          <Routes>
            <Route path="/" element={<StartPage />} />
            <Route path="/callback" element={<CallbackPage />} />
            <Route
              path="/citizen"
              element={
                <Require allow={(r) => r === 'citizen'}>
                  <CitizenHome />
                </Require>
              }
            />
            <Route
              path="/citizen/documents/:id"
              element={
                <Require allow={(r) => r === 'citizen'}>
                  <CitizenDocument />
                </Require>
              }
            />
            <Route
              path="/official/*"
              element={
                <Require allow={isStaff}>
                  <OfficialArea />
                </Require>
              }
            />
            <Route
              path="/admin/*"
              element={
                <Require allow={isAdmin}>
                  <AdminArea />
                </Require>
              }
            />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </Layout>
    </BrowserRouter>
  );
}

/** A page for logged-in users of some roles: others are sent to the start page (and back after login). */
function Require({ allow, children }: { allow: (r: ApiRole) => boolean; children: ReactNode }) {
  const state = useAuthState();
  const location = useLocation();
  const { t } = useTranslation();
  if (state.status !== 'authenticated') {
    return <Navigate to="/" replace state={{ returnTo: location.pathname + location.search, reason: state.reason }} />;
  }
  if (!allow(state.session.role)) {
    return (
      <Alert kind="warning" title={t('auth.wrongRole')}>
        <p className="kern-body">
          <Link className="kern-link" to={homeOf(state.session.role)}>
            {t('auth.toHome')}
          </Link>
        </p>
      </Alert>
    );
  }
  return <>{children}</>;
}
