import { randomBytes } from 'node:crypto';
import { TestEncryptionKey, documentUpload, encryptCompact, makeEncryptionKey, pollUntil } from '@dvd/testing';
import { RunningPlatform, gatewayClient, startPlatform } from './platform-process';

/**
 * ADR 0010: intake checks an upload's kid against routing-engine's key directory, so a key
 * counts from the moment the key API answered — not from when authority.changed reaches
 * intake. Every upload below is sent right after the key API's answer, without waiting or
 * retrying.
 */
describe('authority keys take effect the moment the key API answers, through the gateway', () => {
  let p: RunningPlatform;
  let tokens: Record<'platformAdmin' | 'admin' | 'citizen', string>;
  const call = (...args: Parameters<ReturnType<typeof gatewayClient>>) => gatewayClient(p.gateway)(...args);
  const upload = async (key: TestEncryptionKey) => {
    const { body, contentType } = documentUpload(
      { referenceNumber: 'KEY-2026/1', authorityId: 'keyamt', documentType: 'ANTRAG' },
      await encryptCompact(key, 1000),
    );
    return call(tokens.citizen, 'POST', '/documents', body, { 'content-type': contentType });
  };

  beforeAll(async () => {
    p = await startPlatform({ RATE_LIMIT_CITIZEN_PER_MIN: '1000' });
    tokens = {
      platformAdmin: await p.token({ role: 'platform-admin', authority: 'platform' }),
      admin: await p.token({ role: 'admin', authority: 'keyamt' }),
      citizen: await p.token({ role: 'citizen', sub: 'kim' }),
    };
  }, 150_000);

  afterAll(async () => {
    await p?.stop();
  });

  it('accepts a new kid right after 201 and refuses a retired kid right after 204', async () => {
    const created = await call(tokens.platformAdmin, 'POST', '/authorities', {
      id: 'keyamt',
      name: 'Schlüsselamt',
      ingestUrl: 'https://eakte.example/in',
      ingestSecret: `whsec_${randomBytes(32).toString('base64')}`,
      retentionPeriod: 'P30D',
    });
    expect(created.status).toBe(201);
    let current = await makeEncryptionKey('keyamt-0');
    expect((await call(tokens.admin, 'POST', '/authorities/keyamt/keys', current.publicJwk)).status).toBe(201);
    // the authority itself (its retention period) still reaches intake by event: wait for it once
    await pollUntil(async () => (await upload(current)).status === 201, { what: 'intake to know the authority' });

    for (let round = 1; round <= 3; round++) {
      const next = await makeEncryptionKey(`keyamt-${round}`);
      expect((await call(tokens.admin, 'POST', '/authorities/keyamt/keys', next.publicJwk)).status).toBe(201);
      const withNew = await upload(next);
      expect({ round, status: withNew.status }).toEqual({ round, status: 201 });

      expect((await call(tokens.admin, 'DELETE', `/authorities/keyamt/keys/${current.kid}`)).status).toBe(204);
      const withRetired = await upload(current);
      expect({ round, status: withRetired.status, type: withRetired.body.type }).toEqual({
        round,
        status: 422,
        type: 'https://direktvermittlung.de/problems/unknown-kid',
      });
      current = next;
    }
  });
});
