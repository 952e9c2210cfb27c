import * as contracts from '@dvd/contracts';
import * as c from './case';

describe('case workflow in the app', () => {
  it('lists exactly the contracts’ statuses, decisions, reasons and roles', () => {
    expect(c.DOCUMENT_STATUSES).toEqual(contracts.DOCUMENT_STATUSES);
    expect(c.PROGRESS_STATUSES).toEqual(contracts.PROGRESS_STATUSES);
    expect(c.DECISION_STATUSES).toEqual(contracts.DECISION_STATUSES);
    expect(c.REJECT_REASON_CODES).toEqual(contracts.REJECT_REASON_CODES);
    expect(c.HISTORY_ACTOR_ROLES).toEqual(contracts.HISTORY_ACTOR_ROLES);
    for (const s of c.DOCUMENT_STATUSES) expect(c.isDecided(s)).toBe(contracts.isDecidedStatus(s));
  });

  it('offers re-routing only for statuses nobody has taken up (ADR 0020)', () => {
    expect(c.REROUTABLE_STATUSES.some((s) => contracts.isDecidedStatus(s))).toBe(false);
    expect(c.REROUTABLE_STATUSES).not.toContain('ASSIGNED');
    expect(c.REROUTABLE_STATUSES).not.toContain('EXPORTED');
  });

  it('takes notes whose JWE fits the platform’s limit (ordinary text: 3 bytes a UTF-16 unit at most, base64url)', () => {
    expect(c.MAX_REJECT_NOTE_CHARS).toBe(contracts.MAX_REJECT_NOTE_CHARS);
    expect(Math.ceil((c.MAX_NOTE_LENGTH * 3 * 4) / 3) + 2048).toBeLessThan(c.MAX_REJECT_NOTE_CHARS);
  });

  describe('timelineSteps', () => {
    const states = (steps: c.TimelineStep[]) => steps.map((s) => `${s.key}:${s.state}`);

    it('an undecided document: progress up to its status, the decision still to come', () => {
      expect(states(c.timelineSteps('ROUTED'))).toEqual([
        'RECEIVED:done',
        'ROUTED:current',
        'ASSIGNED:todo',
        'EXPORTED:todo',
        'DECISION:todo',
      ]);
      expect(states(c.timelineSteps('RECEIVED'))[0]).toBe('RECEIVED:current');
    });

    it('a decided document: the steps it went through, then the decision as the last step', () => {
      const history = [
        { state: 'RECEIVED' as const },
        { state: 'ROUTED' as const },
        { state: 'ASSIGNED' as const },
        { state: 'REJECTED' as const },
        // an export after the decision is history, not a step before it
        { state: 'EXPORTED' as const },
      ];
      expect(states(c.timelineSteps('REJECTED', history))).toEqual(['RECEIVED:done', 'ROUTED:done', 'ASSIGNED:done', 'REJECTED:current']);
    });

    it('a decision straight after arrival skips nothing it did not go through', () => {
      expect(states(c.timelineSteps('ACCEPTED', [{ state: 'RECEIVED' }, { state: 'ACCEPTED' }]))).toEqual([
        'RECEIVED:done',
        'ACCEPTED:current',
      ]);
      // without a history only the arrival is certain
      expect(states(c.timelineSteps('FORWARDED'))).toEqual(['RECEIVED:done', 'FORWARDED:current']);
    });
  });

  it('lets admins and the official holding a thread decide, no one else', () => {
    const threads = [{ assignedOfficialId: 'bob' }, { assignedOfficialId: null }];
    expect(c.mayDecide({ role: 'official', sub: 'bob' }, threads)).toBe(true);
    expect(c.mayDecide({ role: 'official', sub: 'eve' }, threads)).toBe(false);
    expect(c.mayDecide({ role: 'official', sub: 'eve' }, [])).toBe(false);
    expect(c.mayDecide({ role: 'admin', sub: 'eve' }, [])).toBe(true);
    expect(c.mayDecide({ role: 'platform-admin', sub: 'eve' }, [])).toBe(true);
    expect(c.mayDecide({ role: 'citizen', sub: 'bob' }, threads)).toBe(false);
  });

  it('lets admins re-route an untouched document only', () => {
    expect(c.mayReroute('admin', 'RECEIVED')).toBe(true);
    expect(c.mayReroute('platform-admin', 'ROUTED')).toBe(true);
    expect(c.mayReroute('admin', 'ASSIGNED')).toBe(false);
    expect(c.mayReroute('admin', 'ACCEPTED')).toBe(false);
    expect(c.mayReroute('official', 'RECEIVED')).toBe(false);
  });
});
