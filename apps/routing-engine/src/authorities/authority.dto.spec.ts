import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { zodFieldErrors } from '@dvd/platform';
import { authoritySchemas } from './authority.dto';

const whsec = (bytes: number) => `whsec_${randomBytes(bytes).toString('base64')}`;
const valid = {
  id: 'stadt-musterstadt',
  name: 'Stadt Musterstadt',
  ingestUrl: 'https://fachverfahren.musterstadt.de/dvd/ingest',
  ingestSecret: whsec(32),
  retentionPeriod: 'P180D',
};

/** The field errors of a failed parse, as the API would answer them. */
function errors(schema: z.ZodTypeAny, input: unknown) {
  const result = schema.safeParse(input);
  return result.success ? [] : zodFieldErrors(result.error);
}

describe('authoritySchemas: the contract’s shapes plus the checks only this service can make', () => {
  const { create, patch, rotateSecret } = authoritySchemas(false);

  it('accepts a valid registration and trims the name', () => {
    expect(create.parse({ ...valid, name: '  Stadt Musterstadt ' })).toEqual({ ...valid, claimDeadline: 'P3D' });
    expect(create.parse({ ...valid, claimDeadline: 'PT2S' }).claimDeadline).toBe('PT2S');
  });

  it.each([
    ['plain http (outbound policy)', { ingestUrl: 'http://eakte.example/in' }, 'ingestUrl', 'must be an https URL'],
    ['a private address (outbound policy)', { ingestUrl: 'https://10.0.0.1/in' }, 'ingestUrl', 'non-public'],
    ['not a URL (contract)', { ingestUrl: 'eakte' }, 'ingestUrl', 'Invalid url'],
    ['a zero retention period (server)', { retentionPeriod: 'P0D' }, 'retentionPeriod', 'positive'],
    ['a malformed retention period (contract)', { retentionPeriod: 'P' }, 'retentionPeriod', 'positive'],
    ['a zero claim deadline (server)', { claimDeadline: 'PT0S' }, 'claimDeadline', 'positive'],
    ['a malformed claim deadline (contract)', { claimDeadline: '3 days' }, 'claimDeadline', 'positive'],
    ['a too short secret (contract)', { ingestSecret: whsec(16) }, 'ingestSecret', '24 to 64'],
    ['a too long secret (contract)', { ingestSecret: whsec(65) }, 'ingestSecret', '24 to 64'],
    ['an unknown field (contract)', { colour: 'red' }, 'colour', 'is not a known field'],
  ])('refuses %s with exactly one error, on the field', (_name, over, field, message) => {
    const found = errors(create, { ...valid, ...over });
    expect(found).toEqual([{ field, message: expect.stringContaining(message) }]);
  });

  it('decodes the secret the way the contract’s pattern counts it: 24 to 64 bytes', () => {
    for (let bytes = 20; bytes <= 68; bytes++) {
      expect([bytes, create.safeParse({ ...valid, ingestSecret: whsec(bytes) }).success]).toEqual([bytes, bytes >= 24 && bytes <= 64]);
    }
  });

  it('applies the same rules to a patch, and needs a field', () => {
    expect(patch.parse({ retentionPeriod: 'P90D' })).toEqual({ retentionPeriod: 'P90D' });
    expect(patch.parse({ claimDeadline: 'P1DT12H' })).toEqual({ claimDeadline: 'P1DT12H' }); // no default in a patch
    expect(errors(patch, { ingestUrl: 'https://127.0.0.1/in' })).toEqual([{ field: 'ingestUrl', message: expect.any(String) }]);
    expect(errors(patch, { retentionPeriod: 'PT0S' })).toEqual([{ field: 'retentionPeriod', message: expect.any(String) }]);
    expect(patch.safeParse({}).success).toBe(false);
  });

  it('takes a previous secret’s expiry in the future, at most 30 days ahead', () => {
    const inDays = (days: number) => new Date(Date.now() + days * 24 * 3600_000).toISOString();
    expect(rotateSecret.safeParse({ ingestSecret: whsec(32), previousSecretExpiresAt: inDays(1) }).success).toBe(true);
    expect(rotateSecret.safeParse({ ingestSecret: whsec(32) }).success).toBe(true);
    expect(errors(rotateSecret, { ingestSecret: whsec(32), previousSecretExpiresAt: inDays(-1) })).toEqual([
      { field: 'previousSecretExpiresAt', message: 'must be in the future' },
    ]);
    expect(errors(rotateSecret, { ingestSecret: whsec(32), previousSecretExpiresAt: inDays(31) })).toEqual([
      { field: 'previousSecretExpiresAt', message: 'must be at most 30 days ahead' },
    ]);
  });

  it('accepts local http receivers only with the development switch', () => {
    const dev = authoritySchemas(true);
    expect(dev.create.safeParse({ ...valid, ingestUrl: 'http://127.0.0.1:8080/in' }).success).toBe(true);
  });
});
