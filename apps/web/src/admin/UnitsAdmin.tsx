import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useServices } from '../app/context';
import { useAction } from '../common/hooks';
import { SAFE_TEXT, UNIT_ID } from '../common/patterns';
import { Alert, Button, ErrorAlert, Field, PageTitle, Section } from '../common/ui';
import { useAdmin } from './AdminArea';

export function UnitsAdmin() {
  const { t } = useTranslation();
  const { client } = useServices();
  const { authority, setAuthority } = useAdmin();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [errors, setErrors] = useState<{ id?: string; name?: string }>({});
  const [done, setDone] = useState<string | null>(null);
  const create = useAction();
  const makeDefault = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    const errs = {
      id: UNIT_ID.test(id) ? undefined : t('admin.units.idError'),
      name: name.trim() && name.length <= 200 && SAFE_TEXT.test(name) ? undefined : t('admin.units.nameError'),
    };
    setErrors(errs);
    if (errs.id || errs.name) return;
    const unit = await create.run(() => client.createUnit(authority.id, { id, name: name.trim() }));
    if (unit) {
      setAuthority({ ...authority, units: [...authority.units, unit], defaultUnitId: authority.defaultUnitId ?? unit.id });
      setId('');
      setName('');
      setDone(t('admin.units.created', { name: unit.name }));
    }
  };

  return (
    <>
      <PageTitle title={t('admin.units.title')}>{t('admin.units.title')}</PageTitle>
      <p className="kern-body">{t('admin.authorityLine', { name: authority.name, id: authority.id })}</p>
      <Section title={t('admin.units.list')}>
        {authority.units.length === 0 ? <p className="kern-body">{t('admin.units.none')}</p> : null}
        <ul className="kern-list unit-list">
          {authority.units.map((u) => (
            <li key={u.id} className="kern-body unit-row" data-testid="unit-row">
              <span>
                <strong>{u.name}</strong> <span className="mono">({u.id})</span>
                {authority.defaultUnitId === u.id ? ` · ${t('admin.units.default')}` : ''}
              </span>
              {authority.defaultUnitId !== u.id ? (
                <Button
                  variant="tertiary"
                  small
                  busy={makeDefault.busy}
                  onClick={() =>
                    void makeDefault
                      .run(() => client.updateAuthority(authority.id, { defaultUnitId: u.id }))
                      .then((a) => a && setAuthority(a))
                  }
                >
                  {t('admin.units.makeDefault', { name: u.name })}
                </Button>
              ) : null}
            </li>
          ))}
        </ul>
        <ErrorAlert error={makeDefault.error} />
      </Section>
      <Section title={t('admin.units.create')}>
        <form className="kern-stack-md" onSubmit={(e) => void submit(e)} noValidate>
          <Field
            label={t('admin.units.id')}
            hint={t('admin.units.idHint')}
            value={id}
            onChange={(e) => setId(e.target.value.toLowerCase())}
            error={errors.id}
            maxLength={50}
            autoComplete="off"
            spellCheck={false}
            required
          />
          <Field
            label={t('admin.units.name')}
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={errors.name}
            maxLength={200}
            required
          />
          <ErrorAlert error={create.error} />
          <Button type="submit" busy={create.busy} icon="add">
            {t('admin.units.submit')}
          </Button>
          {done ? <Alert kind="success" title={done} /> : null}
        </form>
      </Section>
    </>
  );
}
