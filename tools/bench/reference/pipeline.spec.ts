import { referenceRatioRows } from './pipeline';

describe('referenceRatioRows', () => {
  it('answers reference ÷ direct and platform ÷ reference per repetition, their medians, as anchors without a goal', () => {
    const rows = referenceRatioRows('uploads', 'p95 ', {
      platform: [8000, 7000, 9000],
      reference: [4000, 5000, 4500],
      direct: [2000, 2500, 3000],
    });
    expect(rows.map((r) => r.metric)).toEqual(['p95 reference pipeline ÷ direct PUT', 'p95 platform ÷ reference pipeline']);
    expect(rows[0].reps).toEqual([2, 2, 1.5]);
    expect(rows[0].value).toBe(2);
    expect(rows[1].reps).toEqual([2, 1.4, 2]);
    expect(rows[1].value).toBe(2);
    for (const r of rows) {
      expect(r.beside).toBe(true);
      expect(r.goal).toBeUndefined();
      expect(r.unit).toBe('×');
    }
  });
});
