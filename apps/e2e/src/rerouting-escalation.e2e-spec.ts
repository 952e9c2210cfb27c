import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { EventProbe, ResponseRecorder, documentUpload, encryptCompact, makeEncryptionKey, pollUntil } from '@dvd/testing';
import { RunningPlatform, expectResponsesMatchOpenApi, gatewayClient, startPlatform } from './platform-process';

/**
 * Re-routing and escalation (issue 15, ADR 0020) on the whole platform, through the
 * gateway: a document for an authority without units waits UNROUTABLE and is routed within
 * seconds of the first unit; an admin re-routes by hand; a document nobody claims within
 * `claimDeadline: PT2S` is reported overdue once and cleared by a claim.
 */
describe('re-routing and escalation of forgotten documents, through the gateway', () => {
  let p: RunningPlatform;
  let probe: EventProbe;
  let tokens: Record<'platformAdmin' | 'admin' | 'official' | 'citizen' | 'otherAdmin', string>;
  let documentId: string;
  const recorder = new ResponseRecorder();
  const call = (...args: Parameters<ReturnType<typeof gatewayClient>>) => gatewayClient(p.gateway, recorder)(...args);
  const authority = 'amt-eskalation';

  /** `dvd_documents_overdue` of the authority, as intake serves it. */
  async function gauge(): Promise<number | undefined> {
    const text = await (await fetch(`http://127.0.0.1:${p.ports.intake}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('dvd_documents_overdue{') && l.includes(`authority_id="${authority}"`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  }
  const document = async () => (await call(tokens.official, 'GET', `/documents/${documentId}`)).body;
  const overdueInbox = async () =>
    ((await call(tokens.official, 'GET', '/documents?overdue=true&limit=100')).body.items as Array<{ id: string }>).map((d) => d.id);

  beforeAll(async () => {
    p = await startPlatform({ OVERDUE_SWEEP_INTERVAL_MS: '250' });
    probe = await EventProbe.create(p.env.AMQP_URL, ['document.routed', 'document.overdue']);
    tokens = {
      platformAdmin: await p.token({ role: 'platform-admin', authority: 'platform' }),
      admin: await p.token({ role: 'admin', authority }),
      official: await p.token({ role: 'official', authority }),
      citizen: await p.token({ role: 'citizen', sub: 'erika' }),
      otherAdmin: await p.token({ role: 'admin', authority: 'anderes-amt' }),
    };
  }, 150_000);

  afterAll(async () => {
    await probe?.close();
    await p?.stop();
  });

  it('routes an UNROUTABLE document within seconds of its authority gaining a unit', async () => {
    const created = await call(tokens.platformAdmin, 'POST', '/authorities', {
      id: authority,
      name: 'Amt ohne Einheit',
      ingestUrl: 'https://eakte.example/in',
      ingestSecret: `whsec_${randomBytes(32).toString('base64')}`,
      retentionPeriod: 'P30D',
      claimDeadline: 'PT2S',
    });
    expect(created.status).toBe(201);
    expect(created.body.claimDeadline).toBe('PT2S');
    const key = await makeEncryptionKey(`${authority}-1`, 'rsa');
    expect((await call(tokens.admin, 'POST', `/authorities/${authority}/keys`, key.publicJwk)).status).toBe(201);

    const { body, contentType } = documentUpload(
      { referenceNumber: 'BA-2026/1', authorityId: authority, documentType: 'BAUANTRAG' },
      await encryptCompact(key, 10_000),
    );
    const upload = await call(tokens.citizen, 'POST', '/documents', body, { 'content-type': contentType });
    expect(upload.status).toBe(201);
    documentId = upload.body.id as string;
    await pollUntil(
      async () => {
        const list = await call(tokens.platformAdmin, 'GET', `/admin/unroutable-documents?authorityId=${authority}`);
        return (list.body.items as Array<{ documentId: string }>).some((d) => d.documentId === documentId);
      },
      { what: 'the document to be unroutable' },
    );
    expect(await document()).toMatchObject({ status: 'RECEIVED', unitId: null, overdue: false });
    // by hand, nothing to route to yet
    const early = await call(tokens.admin, 'POST', `/documents/${documentId}/reroute`);
    expect(early.status).toBe(200);
    expect(early.body).toEqual({ documentId, outcome: 'UNROUTABLE', unitId: null, ruleId: null, reason: 'no-unit', changed: false });

    const unitAdded = Date.now();
    expect((await call(tokens.admin, 'POST', `/authorities/${authority}/units`, { id: 'poststelle', name: 'Poststelle' })).status).toBe(
      201,
    );
    await pollUntil(async () => (await document()).status === 'ROUTED', { timeoutMs: 10_000, intervalMs: 50, what: 'the document routed' });
    expect(Date.now() - unitAdded).toBeLessThan(10_000);
    expect(await document()).toMatchObject({ status: 'ROUTED', unitId: 'poststelle' });
    const unroutable = await call(tokens.platformAdmin, 'GET', `/admin/unroutable-documents?authorityId=${authority}`);
    expect(unroutable.body.items).toEqual([]);
  });

  it('lets an admin of the authority, or a platform admin, re-route it by hand, idempotently', async () => {
    expect((await call(tokens.admin, 'POST', `/authorities/${authority}/units`, { id: 'bauaufsicht', name: 'Bauaufsicht' })).status).toBe(
      201,
    );
    const rule = await call(tokens.admin, 'POST', `/authorities/${authority}/routing-rules`, {
      priority: 1,
      conditions: { referenceNumberPrefix: 'BA-' },
      targetUnitId: 'bauaufsicht',
    });
    expect(rule.status).toBe(201);
    expect((await document()).unitId).toBe('poststelle'); // a rule change leaves routed documents where they are

    // citizens, officials and other authorities' admins: as if it did not exist
    for (const token of [tokens.citizen, tokens.official, tokens.otherAdmin])
      expect((await call(token, 'POST', `/documents/${documentId}/reroute`)).status).toBe(404);
    expect((await call(tokens.admin, 'POST', `/documents/${randomUUID()}/reroute`)).status).toBe(404);

    const rerouted = await call(tokens.admin, 'POST', `/documents/${documentId}/reroute`);
    expect(rerouted.status).toBe(200);
    expect(rerouted.body).toEqual({
      documentId,
      outcome: 'ROUTED',
      unitId: 'bauaufsicht',
      ruleId: rule.body.id,
      reason: null,
      changed: true,
    });
    expect(await document()).toMatchObject({ status: 'ROUTED', unitId: 'bauaufsicht' }); // at once
    const again = await call(tokens.admin, 'POST', `/documents/${documentId}/reroute`);
    expect(again.body).toMatchObject({ unitId: 'bauaufsicht', changed: false });
    const byPlatform = await call(tokens.platformAdmin, 'POST', `/documents/${documentId}/reroute`);
    expect(byPlatform.status).toBe(200);
    expect(byPlatform.body).toMatchObject({ unitId: 'bauaufsicht', changed: false });

    // the events are published after the commits, on their own time: wait for the last one expected
    await probe.waitFor('document.routed', (d) => d.documentId === documentId && d.revision === 3, 15_000);
    const routed = probe.of('document.routed', (d) => d.documentId === documentId).map((e) => [e.data.unitId, e.data.revision]);
    expect(routed).toEqual([
      ['poststelle', 2],
      ['bauaufsicht', 3],
    ]);
  });

  it('reports the document overdue once after claimDeadline PT2S, and a claim clears it', async () => {
    const event = await probe.waitFor('document.overdue', (d) => d.documentId === documentId, 15_000);
    expect(event.data).toEqual({ documentId, authorityId: authority, unitId: expect.any(String) });
    expect(await document()).toMatchObject({ status: 'ROUTED', overdue: true });
    expect((await call(tokens.citizen, 'GET', `/documents/${documentId}`)).body.overdue).toBe(true);
    expect(await overdueInbox()).toEqual([documentId]);
    expect(await gauge()).toBe(1);

    // an official takes it up: a thread claimed
    const thread = await call(tokens.citizen, 'POST', `/documents/${documentId}/threads`, { type: 'CHAT' });
    expect(thread.status).toBe(201);
    expect((await call(tokens.official, 'POST', `/threads/${thread.body.id as string}/claim`)).status).toBe(200);
    await pollUntil(async () => (await document()).status === 'ASSIGNED', { what: 'the document ASSIGNED' });
    expect(await document()).toMatchObject({ overdue: false });
    expect(await overdueInbox()).toEqual([]);
    expect(await gauge()).toBe(0);

    // someone works on it now: no re-routing
    const refused = await call(tokens.admin, 'POST', `/documents/${documentId}/reroute`);
    expect(refused.status).toBe(409);
    expect(refused.body.type).toMatch(/document-not-reroutable$/);

    // reported once: intake's outbox is empty (everything it published is in the probe's queue) and the probe read it all
    const sql = new Client({ connectionString: p.env.DATABASE_URL });
    await sql.connect();
    try {
      await pollUntil(async () => (await sql.query('SELECT count(*)::int AS n FROM intake.outbox')).rows[0].n === 0, {
        what: 'outbox relayed',
      });
      const [{ overdue_since }] = (await sql.query('SELECT overdue_since FROM intake.documents WHERE id = $1', [documentId]))
        .rows as Array<{
        overdue_since: Date | null;
      }>;
      expect(overdue_since).not.toBeNull(); // marked: no sweep reports it again
    } finally {
      await sql.end();
    }
    await probe.barrier();
    expect(probe.of('document.overdue', (d) => d.documentId === documentId)).toHaveLength(1);
  });

  it('every response above, errors included, matches the generated OpenAPI document', () => {
    expect(expectResponsesMatchOpenApi(recorder, 8)).toEqual(
      expect.arrayContaining([
        'POST /documents/{id}/reroute (rerouteDocument)',
        'GET /documents (listDocuments)',
        'POST /authorities (createAuthority)',
      ]),
    );
  });
});
