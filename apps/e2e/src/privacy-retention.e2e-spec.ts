import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { documentUpload, encryptCompact, makeEncryptionKey, pollUntil } from '@dvd/testing';
import { RunningPlatform, startPlatform, gatewayClient } from './platform-process';

/**
 * The whole flow — upload, routing, thread, messages, export, purge — with a unique
 * Aktenzeichen and unique message blobs, capturing the output of every service: neither,
 * nor any bearer token, may appear anywhere. Then retention deletes everything everywhere.
 */
describe('privacy and retention, end to end', () => {
  let p: RunningPlatform;
  const tokens: string[] = [];
  const aktenzeichen = `AZ-PII-${randomUUID()}`;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });

  const call = (...args: Parameters<ReturnType<typeof gatewayClient>>) => gatewayClient(p.gateway)(...args);
  const token = async (body: Record<string, unknown>) => {
    const t = await p.token(body);
    tokens.push(t);
    return t;
  };

  beforeAll(async () => {
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    p = await startPlatform({ LOG_LEVEL: 'debug', REAPER_INTERVAL_MS: '500' });
  }, 150_000);

  afterAll(async () => {
    receiver.close();
    await p?.stop();
  });

  it('never logs the Aktenzeichen, message contents or tokens, and purges everything when retention ends', async () => {
    const platformAdmin = await token({ role: 'platform-admin', authority: 'platform' });
    const admin = await token({ role: 'admin', authority: 'amt-p' });
    const official = await token({ role: 'official', authority: 'amt-p' });
    const citizen = await token({ role: 'citizen', sub: `citizen-${randomUUID()}` });
    const ingestUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/in`;
    expect(
      (
        await call(platformAdmin, 'POST', '/authorities', {
          id: 'amt-p',
          name: 'Amt P',
          ingestUrl,
          ingestSecret: `whsec_${randomBytes(32).toString('base64')}`,
          retentionPeriod: 'PT10S',
        })
      ).status,
    ).toBe(201);
    await call(admin, 'POST', '/authorities/amt-p/units', { id: 'post', name: 'Post' });
    const key = await makeEncryptionKey('amt-p-1');
    await call(admin, 'POST', '/authorities/amt-p/keys', key.publicJwk);
    await call(admin, 'POST', '/authorities/amt-p/routing-rules', {
      priority: 1,
      conditions: { referenceNumberPrefix: 'AZ-PII' },
      targetUnitId: 'post',
    });

    const { body, contentType } = documentUpload(
      { referenceNumber: aktenzeichen, authorityId: 'amt-p', documentType: 'ANTRAG' },
      await encryptCompact(key, 50_000),
    );
    const created = await pollUntil(async () => {
      const r = await call(citizen, 'POST', '/documents', body, { 'content-type': contentType });
      return r.status === 201 ? r : null;
    });
    const documentId = created.body.id as string;
    // a refused upload too: errors must not echo the Aktenzeichen either
    const refused = documentUpload({ referenceNumber: aktenzeichen, authorityId: 'amt-p', documentType: 'bad type' }, 'x');
    const bad = await call(citizen, 'POST', '/documents', refused.body, { 'content-type': refused.contentType });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).not.toContain(aktenzeichen);

    await pollUntil(async () => (await call(citizen, 'GET', `/documents/${documentId}`)).body.status === 'ROUTED');
    const thread = await call(citizen, 'POST', `/documents/${documentId}/threads`, { type: 'CHAT' });
    const threadId = thread.body.id as string;
    const blobs = [await encryptCompact(key, 321), await encryptCompact(key, 322)];
    await call(citizen, 'POST', `/threads/${threadId}/messages`, { contentBlob: blobs[0] });
    await call(official, 'POST', `/threads/${threadId}/claim`);
    await call(official, 'POST', `/threads/${threadId}/messages`, { contentBlob: blobs[1] });
    const job = await call(official, 'POST', '/exports', { documentId });
    const jobId = job.body.jobId as string;
    await pollUntil(async () => (await call(official, 'GET', `/exports/${jobId}`)).body.status === 'COMPLETED', {
      what: 'export completed',
    });

    // retention: PT10S after creation, the reaper (every 500 ms) purges it on every service
    await pollUntil(async () => (await call(citizen, 'GET', `/documents/${documentId}`)).status === 404, {
      what: 'document purged',
      timeoutMs: 30_000,
    });
    await pollUntil(async () => (await call(citizen, 'GET', `/threads/${threadId}`)).status === 404, { what: 'thread purged' });
    await pollUntil(async () => (await call(official, 'GET', `/exports/${jobId}`)).status === 404, { what: 'export job purged' });
    expect((await call(official, 'GET', `/documents/${documentId}/payload`)).status).toBe(404);
    const audit = () =>
      p
        .output()
        .split('\n')
        .filter((l) => l.includes('"audit":"document.purged"') && l.includes(documentId));
    await pollUntil(
      async () =>
        ['intake', 'routing-engine', 'communication', 'export-worker'].every((s) => audit().some((l) => l.includes(`"service":"${s}"`))),
      {
        what: 'an audit line from every service',
      },
    );

    const output = p.output();
    expect(output).toContain(documentId); // logs do carry ids
    expect(output).not.toContain(aktenzeichen);
    expect(output).not.toContain('AZ-PII');
    for (const b of blobs) {
      expect(output).not.toContain(b);
      expect(output).not.toContain(b.split('.')[3].slice(0, 40)); // not even part of the ciphertext
    }
    for (const t of tokens) {
      expect(output).not.toContain(t);
      expect(output).not.toContain(t.split('.')[2]); // nor its signature
    }
  });
});
