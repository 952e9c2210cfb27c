import { previewRouting, reorder } from './routing-preview';

const rule = (id: string, priority: number, conditions: object, targetUnitId: string, createdAt = '2026-01-01T00:00:00Z') => ({
  id,
  priority,
  conditions,
  targetUnitId,
  createdAt,
});
const doc = { documentType: 'BAUANTRAG', serviceKey: '99108008000000', regionKey: '091620000000', referenceNumber: 'wg-2026-1' };

describe('previewRouting (the routing engine’s rules, in the browser)', () => {
  it('takes the first matching rule by ascending priority', () => {
    const rules = [rule('b', 20, { documentType: 'BAUANTRAG' }, 'bau'), rule('a', 10, { regionKeyPrefix: '0916' }, 'muc')];
    expect(previewRouting(rules, doc, 'post')).toEqual({ unitId: 'muc', ruleId: 'a' });
  });

  it('needs every given condition to hold; the reference prefix ignores case', () => {
    const rules = [
      rule('a', 10, { documentType: 'BAUANTRAG', serviceKey: '00000000000000' }, 'x'),
      rule('b', 20, { referenceNumberPrefix: 'WG-' }, 'wohngeld'),
    ];
    expect(previewRouting(rules, doc, 'post')).toEqual({ unitId: 'wohngeld', ruleId: 'b' });
  });

  it('breaks ties by creation time, then id', () => {
    const rules = [
      rule('z', 10, { documentType: 'BAUANTRAG' }, 'late', '2026-01-02T00:00:00Z'),
      rule('y', 10, { documentType: 'BAUANTRAG' }, 'early', '2026-01-01T00:00:00Z'),
      rule('x', 10, { documentType: 'BAUANTRAG' }, 'early-x', '2026-01-01T00:00:00Z'),
    ];
    expect(previewRouting(rules, doc, null).unitId).toBe('early-x');
  });

  it('falls back to the default unit, or nowhere; a region prefix never matches a document without region key', () => {
    const rules = [rule('a', 10, { regionKeyPrefix: '09' }, 'bayern')];
    expect(previewRouting(rules, { ...doc, regionKey: null }, 'post')).toEqual({ unitId: 'post', ruleId: null });
    expect(previewRouting(rules, { ...doc, regionKey: null }, null)).toEqual({ unitId: null, ruleId: null });
  });
});

describe('reorder', () => {
  const ordered = [rule('a', 10, {}, 'u'), rule('b', 20, {}, 'u'), rule('c', 30, {}, 'u')];

  it('renumbers 10, 20, 30 … and changes only the rules that move', () => {
    expect(reorder(ordered, 2, 1).map(({ rule: r, priority }) => [r.id, priority])).toEqual([
      ['c', 20],
      ['b', 30],
    ]);
  });

  it('turns equal priorities into distinct ones', () => {
    const same = [rule('a', 5, {}, 'u'), rule('b', 5, {}, 'u')];
    expect(reorder(same, 1, 0).map(({ rule: r, priority }) => [r.id, priority])).toEqual([
      ['b', 10],
      ['a', 20],
    ]);
  });
});
