/**
 * Route a document again by the authority's current rules (ADR 0020, `POST
 * /documents/{id}/reroute`): for admins, while nobody has taken the document up — an unroutable
 * one (no unit yet) or one routed before a rule changed. Safe to repeat: the same unit again
 * changes nothing.
 */
import type { DvdClient, DvdDocument, RoutingResult } from '@dvd/sdk';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useAction } from '../common/hooks';
import { Alert, Button, ErrorAlert } from '../common/ui';

export function ReroutePanel({ client, document, onRouted }: { client: DvdClient; document: DvdDocument; onRouted: () => void }) {
  const { t } = useTranslation();
  const action = useAction();
  const [result, setResult] = useState<RoutingResult | null>(null);
  const run = async () => {
    setResult(null);
    const r = await action.run(() => client.rerouteDocument(document.id));
    if (r) {
      setResult(r);
      if (r.changed) onRouted();
    }
  };
  return (
    <div className="kern-stack-md">
      <p className="kern-body">{t('reroute.intro')}</p>
      {document.status === 'RECEIVED' && !document.unitId ? <Alert kind="warning" title={t('reroute.unrouted')} /> : null}
      <Button variant="secondary" icon="autorenew" onClick={() => void run()} busy={action.busy}>
        {t('reroute.run')}
      </Button>
      <ErrorAlert error={action.error} />
      <div
        aria-live="polite"
        data-testid="reroute-result"
        data-outcome={result?.outcome}
        data-changed={result ? String(result.changed) : undefined}
      >
        {result?.outcome === 'ROUTED' ? (
          <Alert
            kind={result.changed ? 'success' : 'info'}
            title={result.changed ? t('reroute.changed', { unit: result.unitId }) : t('reroute.same', { unit: result.unitId })}
          />
        ) : null}
        {result?.outcome === 'UNROUTABLE' ? (
          <Alert kind="warning" title={t('reroute.unroutable')}>
            <p className="kern-body">{t(`reroute.reasons.${result.reason ?? 'no-unit'}`)}</p>
          </Alert>
        ) : null}
      </div>
    </div>
  );
}
