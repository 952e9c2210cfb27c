import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation } from 'react-router';
import { useAuthState, useServices } from '../app/context';
import { homeOf, LOGIN_ROLES, type LoginRole } from '../auth/roles';
import { useAction } from '../common/hooks';
import { Alert, Button, ErrorAlert, PageTitle } from '../common/ui';

/** Choose how to log in (citizen, official, authority admin), then off to the IdP. */
export function StartPage() {
  const { t, i18n } = useTranslation();
  const { auth } = useServices();
  const state = useAuthState();
  const location = useLocation();
  const from = (location.state ?? {}) as { returnTo?: string; reason?: string };
  const [role, setRole] = useState<LoginRole>('citizen');
  const action = useAction();

  if (state.status === 'authenticated') return <Navigate to={homeOf(state.session.role)} replace />;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(() => auth.login(role, { returnTo: from.returnTo, locale: i18n.language }));
  };

  return (
    <>
      <PageTitle title={t('start.title')}>{t('start.title')}</PageTitle>
      {state.reason === 'expired' || from.reason === 'expired' ? (
        <Alert kind="warning" title={t('auth.expired')}>
          <p className="kern-body">{t('auth.expiredText')}</p>
        </Alert>
      ) : null}
      <p className="kern-body kern-body--large">{t('start.intro')}</p>
      <ul className="kern-list kern-list--bullet">
        <li className="kern-body">{t('start.point1')}</li>
        <li className="kern-body">{t('start.point2')}</li>
        <li className="kern-body">{t('start.point3')}</li>
      </ul>
      <form className="kern-stack-md start-form" onSubmit={submit}>
        <fieldset className="kern-fieldset">
          <legend className="kern-label kern-label--large">{t('start.choose')}</legend>
          <div className="kern-fieldset__body">
            {LOGIN_ROLES.map((r) => (
              <div className="kern-form-check" key={r}>
                <input
                  className="kern-form-check__radio"
                  type="radio"
                  name="role"
                  id={`role-${r}`}
                  value={r}
                  checked={role === r}
                  aria-describedby={`role-${r}-hint`}
                  onChange={() => setRole(r)}
                />
                <label className="kern-label" htmlFor={`role-${r}`}>
                  {t(`start.roles.${r}`)}
                </label>
                <div className="kern-hint" id={`role-${r}-hint`}>
                  {t(`start.roleHints.${r}`)}
                </div>
              </div>
            ))}
          </div>
        </fieldset>
        <ErrorAlert error={action.error} title={t('auth.loginFailed')} />
        <Button type="submit" busy={action.busy} icon="arrow-forward">
          {t('start.login')}
        </Button>
      </form>
    </>
  );
}
