import { AWAITING_STATUSES, isOverdue, isReroutable, overdueSql, statusListSql } from './document-status';

describe('which documents wait, are overdue and may be re-routed', () => {
  it('lets a routed document wait, and nothing else', () => {
    expect(AWAITING_STATUSES).toEqual(['ROUTED']);
    expect(overdueSql('d')).toBe("(d.overdue_since IS NOT NULL AND d.status IN ('ROUTED'))");
  });

  it('re-routes only what nobody has taken up: not claimed, decided or exported', () => {
    expect(['RECEIVED', 'ROUTED'].filter(isReroutable)).toEqual(['RECEIVED', 'ROUTED']);
    // decisions by name, before and after they are statuses of the contract
    for (const taken of ['ASSIGNED', 'EXPORTED', 'ACCEPTED', 'REJECTED', 'FORWARDED'])
      expect([taken, isReroutable(taken)]).toEqual([taken, false]);
  });

  it('shows overdue only while the reported document still waits', () => {
    const reported = new Date();
    expect(isOverdue({ overdueSince: reported, status: 'ROUTED' })).toBe(true);
    expect(isOverdue({ overdueSince: null, status: 'ROUTED' })).toBe(false);
    expect(isOverdue({ overdueSince: reported, status: 'ASSIGNED' })).toBe(false);
    expect(isOverdue({ overdueSince: reported, status: 'EXPORTED' })).toBe(false);
  });

  it('puts only plain status words into SQL', () => {
    expect(statusListSql(['ROUTED', 'IN_REVIEW'])).toBe("'ROUTED', 'IN_REVIEW'");
    expect(() => statusListSql(["ROUTED'; DROP TABLE documents; --"])).toThrow();
    expect(() => statusListSql([])).toThrow();
  });
});
