import { DocumentFacts, RuleForEvaluation, evaluateRules } from './rule-evaluation';

const doc = (over: Partial<DocumentFacts> = {}): DocumentFacts => ({
  documentType: 'WIDERSPRUCH',
  serviceKey: '99123456789000',
  regionKey: '091620000000',
  referenceNumber: 'BAU-2026/4711',
  ...over,
});

let n = 0;
const rule = (
  priority: number,
  conditions: RuleForEvaluation['conditions'],
  targetUnitId: string,
  createdAt = `2026-01-01T00:00:${String(n++).padStart(2, '0')}Z`,
): RuleForEvaluation => ({
  id: `r-${targetUnitId}-${n}`,
  priority,
  conditions,
  targetUnitId,
  createdAt,
});

describe('evaluateRules', () => {
  it('routes to the default unit when no rule matches', () => {
    expect(evaluateRules([rule(1, { documentType: 'ANTRAG' }, 'antraege')], doc(), 'poststelle')).toEqual({
      unitId: 'poststelle',
      ruleId: null,
    });
  });

  it('reports no unit when nothing matches and there is no default', () => {
    expect(evaluateRules([], doc(), null)).toEqual({ unitId: null, ruleId: null });
  });

  it('evaluates by ascending priority, whatever the input order', () => {
    const rules = [
      rule(20, { documentType: 'WIDERSPRUCH' }, 'late'),
      rule(5, { documentType: 'WIDERSPRUCH' }, 'early'),
      rule(10, { documentType: 'WIDERSPRUCH' }, 'middle'),
    ];
    expect(evaluateRules(rules, doc(), 'default').unitId).toBe('early');
  });

  it('breaks priority ties by creation time, then id', () => {
    const older = rule(1, { documentType: 'WIDERSPRUCH' }, 'older', '2026-01-01T00:00:00Z');
    const newer = rule(1, { documentType: 'WIDERSPRUCH' }, 'newer', '2026-01-02T00:00:00Z');
    expect(evaluateRules([newer, older], doc(), null).unitId).toBe('older');
    const a = { ...rule(1, {}, 'a', '2026-01-01T00:00:00Z'), id: 'a', conditions: { documentType: 'WIDERSPRUCH' } };
    const b = { ...rule(1, {}, 'b', '2026-01-01T00:00:00Z'), id: 'b', conditions: { documentType: 'WIDERSPRUCH' } };
    expect(evaluateRules([b, a], doc(), null).unitId).toBe('a');
  });

  it('matches a prefix of the regional key (ARS)', () => {
    const rules = [rule(1, { regionKeyPrefix: '09162' }, 'muenchen'), rule(2, { regionKeyPrefix: '09' }, 'bayern')];
    expect(evaluateRules(rules, doc(), 'default').unitId).toBe('muenchen');
    expect(evaluateRules(rules, doc({ regionKey: '091840000000' }), 'default').unitId).toBe('bayern');
    expect(evaluateRules(rules, doc({ regionKey: '110000000000' }), 'default').unitId).toBe('default');
    expect(evaluateRules(rules, doc({ regionKey: null }), 'default').unitId).toBe('default');
  });

  it('matches a prefix of the Aktenzeichen, case-insensitively', () => {
    const rules = [rule(1, { referenceNumberPrefix: 'bau-' }, 'bauamt')];
    expect(evaluateRules(rules, doc(), 'default').unitId).toBe('bauamt');
    expect(evaluateRules(rules, doc({ referenceNumber: 'SOZ-1' }), 'default').unitId).toBe('default');
  });

  it('requires every given condition to hold', () => {
    const rules = [
      rule(1, { documentType: 'WIDERSPRUCH', serviceKey: '99123456789000', regionKeyPrefix: '0916', referenceNumberPrefix: 'BAU' }, 'all'),
    ];
    expect(evaluateRules(rules, doc(), 'default').unitId).toBe('all');
    expect(evaluateRules(rules, doc({ serviceKey: '99000000000000' }), 'default').unitId).toBe('default');
    expect(evaluateRules(rules, doc({ serviceKey: null }), 'default').unitId).toBe('default');
    expect(evaluateRules(rules, doc({ documentType: 'ANTRAG' }), 'default').unitId).toBe('default');
  });

  it('returns the id of the rule that matched', () => {
    const r = rule(3, { documentType: 'WIDERSPRUCH' }, 'x');
    expect(evaluateRules([r], doc(), null)).toEqual({ unitId: 'x', ruleId: r.id });
  });
});
