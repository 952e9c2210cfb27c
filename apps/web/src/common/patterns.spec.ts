import * as contracts from '@dvd/contracts';
import * as patterns from './patterns';

/** The form's early checks must say exactly what the platform will say. */
describe('input patterns', () => {
  it('are the contracts’ patterns', () => {
    expect(patterns.AUTHORITY_ID.source).toBe(contracts.AUTHORITY_ID_PATTERN.source);
    expect(patterns.UNIT_ID.source).toBe(contracts.UNIT_ID_PATTERN.source);
    expect(patterns.DOCUMENT_TYPE.source).toBe(contracts.DOCUMENT_TYPE_PATTERN.source);
    expect(patterns.SERVICE_KEY.source).toBe(contracts.SERVICE_KEY_PATTERN.source);
    expect(patterns.REGION_KEY.source).toBe(contracts.REGION_KEY_PATTERN.source);
    expect(patterns.REGION_KEY_PREFIX.source).toBe(contracts.REGION_KEY_PREFIX_PATTERN.source);
    expect(patterns.INGEST_SECRET.source).toBe(contracts.INGEST_SECRET_PATTERN.source);
    expect(patterns.ISO_DURATION.source).toBe(contracts.ISO_DURATION_PATTERN.source);
  });

  it('accept and refuse Aktenzeichen like the contract', () => {
    for (const v of ['WG-2025-000123', 'AZ 4711/26', 'x'.repeat(50), '', 'x'.repeat(51), 'a\u202eb', 'line\nbreak', 'zero\u200bwidth']) {
      expect(patterns.validReferenceNumber(v)).toBe(contracts.ReferenceNumber.safeParse(v).success);
    }
  });
});
