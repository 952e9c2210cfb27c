import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { PageTitle } from '../common/ui';

export function NotFound() {
  const { t } = useTranslation();
  return (
    <>
      <PageTitle title={t('notFound.title')}>{t('notFound.title')}</PageTitle>
      <p className="kern-body">{t('notFound.text')}</p>
      <p className="kern-body">
        <Link className="kern-link" to="/">
          {t('notFound.home')}
        </Link>
      </p>
    </>
  );
}
