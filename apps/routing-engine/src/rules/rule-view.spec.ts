import { RoutingRuleSchema } from '@dvd/contracts';
import { RoutingRuleEntity } from './routing-rule.entity';
import { toRuleView } from './rule.service';

describe('toRuleView (typed as the contract’s RoutingRule)', () => {
  it('answers exactly the fields of the contract', () => {
    const entity = Object.assign(new RoutingRuleEntity(), {
      id: '0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10',
      authorityId: 'stadt-musterstadt',
      priority: 10,
      conditions: { referenceNumberPrefix: 'bau-', regionKeyPrefix: '0916' },
      targetUnitId: 'bauaufsicht',
      createdAt: new Date('2026-01-31T09:30:00Z'),
      updatedAt: new Date('2026-01-31T09:45:00Z'),
    });
    expect(RoutingRuleSchema.strict().safeParse(toRuleView(entity)).error?.issues).toBeUndefined();
  });
});
