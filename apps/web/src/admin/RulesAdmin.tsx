import type { RoutingRule, RoutingRuleInput } from '@dvd/sdk';
import type { TFunction } from 'i18next';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useServices } from '../app/context';
import { useAction, useLoad } from '../common/hooks';
import { DOCUMENT_TYPE, REGION_KEY, REGION_KEY_PREFIX, SAFE_TEXT, SERVICE_KEY } from '../common/patterns';
import { Alert, Button, ErrorAlert, Field, Loading, PageTitle, Section, Select } from '../common/ui';
import { useAdmin } from './AdminArea';
import { compareRules, previewRouting, reorder } from './routing-preview';

type Conditions = RoutingRule['conditions'];
const CONDITION_KEYS = ['documentType', 'serviceKey', 'regionKeyPrefix', 'referenceNumberPrefix'] as const;

export function RulesAdmin() {
  const { t } = useTranslation();
  const { client } = useServices();
  const { authority } = useAdmin();
  const rules = useLoad(async () => {
    const all: RoutingRule[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listRoutingRules(authority.id, { limit: 100, cursor });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all.sort(compareRules);
  }, [client, authority.id]);
  const [editing, setEditing] = useState<RoutingRule | null>(null);
  const action = useAction();
  const [status, setStatus] = useState('');
  const ordered = rules.data ?? [];
  const unitName = (id: string) => authority.units.find((u) => u.id === id)?.name ?? id;

  const move = (from: number, to: number) =>
    void action
      .run(async () => {
        for (const { rule, priority } of reorder(ordered, from, to)) {
          await client.replaceRoutingRule(authority.id, rule.id, {
            priority,
            conditions: rule.conditions,
            targetUnitId: rule.targetUnitId,
          });
        }
      })
      .then(() => {
        setStatus(t('admin.rules.moved'));
        rules.reload();
      });

  const remove = (rule: RoutingRule) =>
    void action
      .run(() => client.deleteRoutingRule(authority.id, rule.id))
      .then(() => {
        setStatus(t('admin.rules.deleted'));
        rules.reload();
      });

  return (
    <>
      <PageTitle title={t('admin.rules.title')}>{t('admin.rules.title')}</PageTitle>
      <p className="kern-body">{t('admin.rules.intro')}</p>
      <Section title={t('admin.rules.list')}>
        <ErrorAlert error={rules.error} />
        {rules.loading && !rules.data ? <Loading /> : null}
        {rules.data && ordered.length === 0 ? <p className="kern-body">{t('admin.rules.none')}</p> : null}
        {ordered.length > 0 ? (
          <ol className="rule-list">
            {ordered.map((r, i) => (
              <li key={r.id} className="rule-row kern-card" data-testid="rule-row">
                <div className="kern-card__container">
                  <div className="kern-card__body">
                    <p className="kern-body">
                      <strong>
                        {t('admin.rules.priority')} {r.priority}
                      </strong>{' '}
                      → {unitName(r.targetUnitId)} <span className="mono">({r.targetUnitId})</span>
                    </p>
                    <p className="kern-body kern-body--small">{describeConditions(t, r.conditions)}</p>
                    <div className="kern-btn-wrapper">
                      <Button small variant="tertiary" icon="arrow-up" disabled={i === 0 || action.busy} onClick={() => move(i, i - 1)}>
                        {t('admin.rules.up', { n: i + 1 })}
                      </Button>
                      <Button
                        small
                        variant="tertiary"
                        icon="arrow-down"
                        disabled={i === ordered.length - 1 || action.busy}
                        onClick={() => move(i, i + 1)}
                      >
                        {t('admin.rules.down', { n: i + 1 })}
                      </Button>
                      <Button small variant="secondary" icon="edit" onClick={() => setEditing(r)}>
                        {t('admin.rules.edit', { n: i + 1 })}
                      </Button>
                      <Button small variant="secondary" icon="delete" disabled={action.busy} onClick={() => remove(r)}>
                        {t('admin.rules.delete', { n: i + 1 })}
                      </Button>
                    </div>
                  </div>
                </div>
              </li>
            ))}
          </ol>
        ) : null}
        <p className="kern-body">
          {t('admin.rules.fallback', {
            unit: authority.defaultUnitId ? unitName(authority.defaultUnitId) : t('admin.rules.noDefault'),
          })}
        </p>
        <ErrorAlert error={action.error} />
        <div className="kern-sr-only" aria-live="polite">
          {status}
        </div>
      </Section>
      <Section title={editing ? t('admin.rules.editTitle') : t('admin.rules.create')}>
        <RuleForm
          key={editing?.id ?? 'new'}
          rule={editing}
          suggestedPriority={ordered.length ? ordered[ordered.length - 1].priority + 10 : 10}
          onDone={() => {
            setEditing(null);
            rules.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      </Section>
      <Section title={t('admin.preview.title')}>
        <RoutingPreview rules={ordered} />
      </Section>
    </>
  );
}

function describeConditions(t: TFunction, c: Conditions): string {
  return CONDITION_KEYS.filter((k) => c[k] !== undefined)
    .map((k) => `${t(`admin.rules.conditions.${k}`)} ${k.endsWith('Prefix') ? t('admin.rules.startsWith') : '='} „${c[k]}“`)
    .join(` ${t('admin.rules.and')} `);
}

function RuleForm({
  rule,
  suggestedPriority,
  onDone,
  onCancel,
}: {
  rule: RoutingRule | null;
  suggestedPriority: number;
  onDone: () => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const { client } = useServices();
  const { authority } = useAdmin();
  const [priority, setPriority] = useState(String(rule?.priority ?? suggestedPriority));
  const [cond, setCond] = useState<Record<(typeof CONDITION_KEYS)[number], string>>({
    documentType: rule?.conditions.documentType ?? '',
    serviceKey: rule?.conditions.serviceKey ?? '',
    regionKeyPrefix: rule?.conditions.regionKeyPrefix ?? '',
    referenceNumberPrefix: rule?.conditions.referenceNumberPrefix ?? '',
  });
  const [target, setTarget] = useState(rule?.targetUnitId ?? authority.units[0]?.id ?? '');
  const [errors, setErrors] = useState<Record<string, string | undefined>>({});
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    const errs: Record<string, string | undefined> = {
      priority:
        /^-?\d{1,7}$/.test(priority.trim()) && Math.abs(Number(priority)) <= 1_000_000 ? undefined : t('admin.rules.errors.priority'),
      documentType: cond.documentType && !DOCUMENT_TYPE.test(cond.documentType) ? t('upload.errors.documentType') : undefined,
      serviceKey: cond.serviceKey && !SERVICE_KEY.test(cond.serviceKey) ? t('upload.errors.serviceKey') : undefined,
      regionKeyPrefix:
        cond.regionKeyPrefix && !REGION_KEY_PREFIX.test(cond.regionKeyPrefix) ? t('admin.rules.errors.regionKeyPrefix') : undefined,
      referenceNumberPrefix:
        cond.referenceNumberPrefix && (cond.referenceNumberPrefix.length > 50 || !SAFE_TEXT.test(cond.referenceNumberPrefix))
          ? t('upload.errors.referenceNumber')
          : undefined,
      target: target ? undefined : t('admin.rules.errors.target'),
    };
    const conditions: Conditions = {};
    for (const k of CONDITION_KEYS) if (cond[k].trim()) conditions[k] = cond[k].trim();
    if (Object.keys(conditions).length === 0) errs.documentType = t('admin.rules.errors.noCondition');
    setErrors(errs);
    if (Object.values(errs).some(Boolean)) return;
    const input: RoutingRuleInput = { priority: Number(priority), conditions, targetUnitId: target };
    const saved = await action.run(() =>
      rule ? client.replaceRoutingRule(authority.id, rule.id, input) : client.createRoutingRule(authority.id, input),
    );
    if (saved) {
      setDone(rule ? t('admin.rules.saved') : t('admin.rules.created'));
      onDone();
    }
  };

  if (authority.units.length === 0) return <Alert kind="info" title={t('admin.rules.needUnit')} />;
  return (
    <form className="kern-stack-md" onSubmit={(e) => void submit(e)} noValidate>
      <Field
        label={t('admin.rules.priority')}
        hint={t('admin.rules.priorityHint')}
        type="number"
        value={priority}
        onChange={(e) => setPriority(e.target.value)}
        error={errors.priority}
        required
      />
      <fieldset className="kern-fieldset">
        <legend className="kern-label">{t('admin.rules.conditionsLegend')}</legend>
        <div className="kern-fieldset__body kern-stack-sm">
          {CONDITION_KEYS.map((k) => (
            <Field
              key={k}
              label={t(`admin.rules.conditions.${k}`)}
              hint={t(`admin.rules.hints.${k}`)}
              value={cond[k]}
              optional
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => {
                const v = k === 'documentType' ? e.target.value.toUpperCase() : e.target.value;
                setCond((c) => ({ ...c, [k]: v }));
              }}
              error={errors[k]}
            />
          ))}
        </div>
      </fieldset>
      <Select
        label={t('admin.rules.target')}
        value={target}
        onChange={setTarget}
        options={authority.units.map((u) => ({ value: u.id, label: `${u.name} (${u.id})` }))}
      />
      {errors.target ? <p className="kern-error">{errors.target}</p> : null}
      <ErrorAlert error={action.error} />
      <div className="kern-btn-wrapper actions">
        <Button type="submit" busy={action.busy} icon="check">
          {rule ? t('admin.rules.save') : t('admin.rules.submit')}
        </Button>
        {rule ? (
          <Button variant="secondary" onClick={onCancel}>
            {t('common.cancel')}
          </Button>
        ) : null}
      </div>
      {done ? <Alert kind="success" title={done} /> : null}
    </form>
  );
}

/** Client-side evaluation of the rules (there is no preview API). */
function RoutingPreview({ rules }: { rules: RoutingRule[] }) {
  const { t } = useTranslation();
  const { authority } = useAdmin();
  const [facts, setFacts] = useState({ documentType: '', serviceKey: '', regionKey: '', referenceNumber: '' });
  const filled = facts.documentType || facts.referenceNumber || facts.serviceKey || facts.regionKey;
  const outcome = previewRouting(
    rules,
    {
      documentType: facts.documentType,
      serviceKey: facts.serviceKey || null,
      regionKey: facts.regionKey || null,
      referenceNumber: facts.referenceNumber,
    },
    authority.defaultUnitId,
  );
  const index = outcome.ruleId ? rules.findIndex((r) => r.id === outcome.ruleId) + 1 : 0;
  const unit = outcome.unitId ? (authority.units.find((u) => u.id === outcome.unitId)?.name ?? outcome.unitId) : null;
  const regionWarn = facts.regionKey && !REGION_KEY.test(facts.regionKey);
  return (
    <div className="kern-stack-md">
      <p className="kern-body">{t('admin.preview.intro')}</p>
      <div className="two-columns">
        <Field
          label={t('upload.documentType')}
          value={facts.documentType}
          onChange={(e) => setFacts((f) => ({ ...f, documentType: e.target.value.toUpperCase() }))}
        />
        <Field
          label={t('upload.referenceNumber')}
          value={facts.referenceNumber}
          onChange={(e) => setFacts((f) => ({ ...f, referenceNumber: e.target.value }))}
        />
        <Field
          label={t('upload.serviceKey')}
          value={facts.serviceKey}
          optional
          onChange={(e) => setFacts((f) => ({ ...f, serviceKey: e.target.value }))}
        />
        <Field
          label={t('upload.regionKey')}
          value={facts.regionKey}
          optional
          onChange={(e) => setFacts((f) => ({ ...f, regionKey: e.target.value }))}
          error={regionWarn ? t('upload.errors.regionKey') : null}
        />
      </div>
      <div aria-live="polite" data-testid="routing-preview">
        {filled ? (
          <p className="kern-body">
            {unit
              ? outcome.ruleId
                ? t('admin.preview.byRule', { unit, n: index })
                : t('admin.preview.byDefault', { unit })
              : t('admin.preview.nowhere')}
          </p>
        ) : null}
      </div>
    </div>
  );
}
