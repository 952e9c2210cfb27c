import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { useServices } from '../app/context';
import { LoginError, type Auth } from '../auth/auth';
import { homeOf } from '../auth/roles';
import { Alert, Loading, PageTitle } from '../common/ui';

// one completion per redirect, even if React runs the effect twice (StrictMode)
let completing: { url: string; done: Promise<string> } | null = null;
function completeOnce(auth: Auth, url: string): Promise<string> {
  if (completing?.url !== url) completing = { url, done: auth.completeLogin(new URL(url)) };
  return completing.done;
}

/** The IdP sends the browser back here with `code` and `state`; the tokens are fetched and kept in memory. */
export function CallbackPage() {
  const { t } = useTranslation();
  const { auth } = useServices();
  const navigate = useNavigate();
  const [error, setError] = useState<LoginError | Error | null>(null);

  useEffect(() => {
    let gone = false;
    completeOnce(auth, window.location.href).then(
      (returnTo) => {
        const s = auth.getState();
        if (gone || s.status !== 'authenticated') return;
        // replace: the code and state leave the address bar and the history
        void navigate(returnTo || homeOf(s.session.role), { replace: true });
      },
      (err: unknown) => {
        if (!gone) setError(err instanceof Error ? err : new Error(String(err)));
      },
    );
    return () => {
      gone = true;
    };
  }, [auth, navigate]);

  if (!error) return <Loading label={t('auth.completing')} />;
  const code = error instanceof LoginError ? error.code : 'token';
  return (
    <>
      <PageTitle title={t('auth.loginFailed')}>{t('auth.loginFailed')}</PageTitle>
      <Alert kind="danger" title={t(`auth.errors.${code}`)}>
        {error instanceof LoginError && error.code === 'idp-refused' ? <p className="kern-body mono">{error.message}</p> : null}
      </Alert>
      <p className="kern-body">
        <Link className="kern-link" to="/" replace>
          {t('auth.tryAgain')}
        </Link>
      </p>
    </>
  );
}
