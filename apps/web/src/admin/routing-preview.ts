/**
 * "Which unit would this document go to?" — evaluated in the browser, because the API has
 * no preview operation. The same rules as the routing engine
 * (apps/routing-engine/src/rules/rule-evaluation.ts): ascending priority, then the rule
 * created first, then the smaller id; every given condition must hold; the first match
 * wins; no match → the authority's default unit. Unit-tested with the engine's cases.
 */
import type { RoutingRule } from '@dvd/sdk';

export interface PreviewFacts {
  documentType: string;
  serviceKey: string | null;
  regionKey: string | null;
  referenceNumber: string;
}

export type PreviewOutcome = { unitId: string; ruleId: string | null } | { unitId: null; ruleId: null };

type RuleLike = Pick<RoutingRule, 'id' | 'priority' | 'conditions' | 'targetUnitId' | 'createdAt'>;

export function compareRules(a: RuleLike, b: RuleLike): number {
  return a.priority - b.priority || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);
}

export function ruleMatches(c: RuleLike['conditions'], doc: PreviewFacts): boolean {
  if (c.documentType !== undefined && c.documentType !== doc.documentType) return false;
  if (c.serviceKey !== undefined && c.serviceKey !== doc.serviceKey) return false;
  if (c.regionKeyPrefix !== undefined && !(doc.regionKey ?? '').startsWith(c.regionKeyPrefix)) return false;
  if (c.referenceNumberPrefix !== undefined && !doc.referenceNumber.toUpperCase().startsWith(c.referenceNumberPrefix.toUpperCase())) {
    return false;
  }
  return true;
}

export function previewRouting(rules: readonly RuleLike[], doc: PreviewFacts, defaultUnitId: string | null): PreviewOutcome {
  const match = [...rules].sort(compareRules).find((r) => ruleMatches(r.conditions, doc));
  if (match) return { unitId: match.targetUnitId, ruleId: match.id };
  return defaultUnitId ? { unitId: defaultUnitId, ruleId: null } : { unitId: null, ruleId: null };
}

/**
 * New priorities after moving the rule at `from` to `to` (in evaluation order): 10, 20, 30 …
 * Returns only the rules whose priority changes (each a PUT).
 */
export function reorder<T extends RuleLike>(ordered: readonly T[], from: number, to: number): Array<{ rule: T; priority: number }> {
  const next = [...ordered];
  const [moved] = next.splice(from, 1);
  next.splice(to, 0, moved);
  return next.map((rule, i) => ({ rule, priority: (i + 1) * 10 })).filter(({ rule, priority }) => rule.priority !== priority);
}
