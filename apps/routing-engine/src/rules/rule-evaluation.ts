/**
 * Routing-rule evaluation: pure logic, no I/O.
 *
 * Rules are evaluated by ascending `priority`; among equal priorities the rule created
 * first wins, then the smaller id (a total order, so every replica decides the same way).
 * A rule matches when every condition it gives holds; the first match wins; no match
 * routes to the authority's default unit.
 */
export interface RuleConditions {
  documentType?: string;
  serviceKey?: string;
  /** Prefix of the 12-digit Amtlicher Regionalschlüssel. */
  regionKeyPrefix?: string;
  /** Prefix of the Aktenzeichen, compared case-insensitively. */
  referenceNumberPrefix?: string;
}

export interface RuleForEvaluation {
  id: string;
  priority: number;
  conditions: RuleConditions;
  targetUnitId: string;
  /** ISO timestamp of creation: the tie-break within one priority. */
  createdAt: string;
}

export interface DocumentFacts {
  documentType: string;
  serviceKey: string | null;
  regionKey: string | null;
  referenceNumber: string;
}

export type RoutingOutcome = { unitId: string; ruleId: string | null } | { unitId: null; ruleId: null };

export function compareRules(a: RuleForEvaluation, b: RuleForEvaluation): number {
  return a.priority - b.priority || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);
}

export function ruleMatches(c: RuleConditions, doc: DocumentFacts): boolean {
  if (c.documentType !== undefined && c.documentType !== doc.documentType) return false;
  if (c.serviceKey !== undefined && c.serviceKey !== doc.serviceKey) return false;
  if (c.regionKeyPrefix !== undefined && !(doc.regionKey ?? '').startsWith(c.regionKeyPrefix)) return false;
  if (c.referenceNumberPrefix !== undefined && !doc.referenceNumber.toUpperCase().startsWith(c.referenceNumberPrefix.toUpperCase()))
    return false;
  return true;
}

export function evaluateRules(rules: readonly RuleForEvaluation[], doc: DocumentFacts, defaultUnitId: string | null): RoutingOutcome {
  const match = [...rules].sort(compareRules).find((r) => ruleMatches(r.conditions, doc));
  if (match) return { unitId: match.targetUnitId, ruleId: match.id };
  return defaultUnitId ? { unitId: defaultUnitId, ruleId: null } : { unitId: null, ruleId: null };
}
