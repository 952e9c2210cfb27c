import { randomUUID } from 'node:crypto';
import { TestUser, citizen, documentUpload, encryptCompact, makeEncryptionKey, official, pollUntil, signedHeaders } from '@dvd/testing';
import { Intake, startIntake } from './intake-harness';

describe('document status from real events, ETag and paging', () => {
  let intake: Intake;

  const get = (user: TestUser, path: string, headers: Record<string, string> = {}) =>
    fetch(`${intake.base}${path}`, { headers: { ...signedHeaders(user, 'GET', path), ...headers } });
  const doc = async (id: string) =>
    (await (await get(official('a1'), `/api/v1/documents/${id}`)).json()) as { status: string; unitId: string | null };

  async function uploadOne(user = citizen('alice')): Promise<string> {
    const key = await makeEncryptionKey('a1-k1');
    const { body, contentType } = documentUpload(
      { referenceNumber: 'AZ-1', authorityId: 'a1', documentType: 'ANTRAG' },
      await encryptCompact(key, 100),
    );
    const path = '/api/v1/documents';
    const res = await fetch(`${intake.base}${path}`, {
      method: 'POST',
      headers: { ...signedHeaders(user, 'POST', path, { body, contentType }), 'content-type': contentType },
      body,
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  async function deliver(...events: Array<() => Promise<{ id: string }>>) {
    for (const publish of events) {
      const envelope = await publish();
      await pollUntil(
        async () => (await intake.sql.query('SELECT 1 FROM intake.processed_events WHERE event_id = $1', [envelope.id])).rowCount === 1,
        { what: 'event applied' },
      );
    }
  }

  const routed =
    (documentId: string, unitId = 'poststelle', revision = 1) =>
    () =>
      intake.probe.publish('document.routed', { documentId, authorityId: 'a1', unitId, ruleId: null, revision, claimDeadline: 'P3D' });
  const claimed = (documentId: string) => () =>
    intake.probe.publish('thread.claimed', { threadId: randomUUID(), documentId, officialId: 'o-1' });
  const exported = (documentId: string) => () =>
    intake.probe.publish('export.completed', { jobId: randomUUID(), documentId, authorityId: 'a1' });

  beforeAll(async () => {
    intake = await startIntake();
    await intake.registerAuthority('a1', ['a1-k1']);
  }, 60_000);
  afterAll(() => intake?.close());

  it('moves RECEIVED → ROUTED → ASSIGNED → EXPORTED as the events arrive', async () => {
    const id = await uploadOne();
    expect(await doc(id)).toMatchObject({ status: 'RECEIVED', unitId: null });
    await deliver(routed(id));
    expect(await doc(id)).toMatchObject({ status: 'ROUTED', unitId: 'poststelle' });
    await deliver(claimed(id));
    expect(await doc(id)).toMatchObject({ status: 'ASSIGNED', unitId: 'poststelle' });
    await deliver(exported(id));
    expect(await doc(id)).toMatchObject({ status: 'EXPORTED', unitId: 'poststelle' });
  });

  it('never moves a status backwards when events arrive late, out of order or twice', async () => {
    const id = await uploadOne();
    await deliver(exported(id));
    expect((await doc(id)).status).toBe('EXPORTED');
    await deliver(claimed(id), routed(id, 'bauaufsicht'));
    expect(await doc(id)).toMatchObject({ status: 'EXPORTED', unitId: 'bauaufsicht' }); // the unit is still learnt
    const twice = routed(id, 'bauaufsicht');
    await deliver(twice, twice);
    expect(await doc(id)).toMatchObject({ status: 'EXPORTED', unitId: 'bauaufsicht' });
  });

  it('tells the realtime stream of each change of status or unit, once: owner, authority, unit and status (ADR 0021)', async () => {
    const id = await uploadOne(citizen('dora'));
    await deliver(routed(id), routed(id), claimed(id), claimed(id), routed(id, 'bauaufsicht', 2), exported(id));
    // everything intake wrote to its outbox is published, and the probe read all of it
    await pollUntil(async () => (await intake.sql.query('SELECT 1 FROM intake.outbox')).rowCount === 0, { what: 'outbox relayed' });
    await intake.probe.barrier();
    const change = (unitId: string | null, status: string) => ({ documentId: id, citizenId: 'dora', authorityId: 'a1', unitId, status });
    expect(intake.probe.of('document.status-changed', (d) => d.documentId === id).map((e) => e.data)).toEqual([
      change(null, 'RECEIVED'),
      change('poststelle', 'ROUTED'),
      change('poststelle', 'ASSIGNED'),
      change('bauaufsicht', 'ASSIGNED'), // re-routed: the new unit's officials learn of it
      change('bauaufsicht', 'EXPORTED'),
    ]);
  });

  it('keeps a strong ETag that changes exactly when status or unit change, with 304 on If-None-Match', async () => {
    const id = await uploadOne(citizen('bob'));
    const path = `/api/v1/documents/${id}`;
    const first = await get(citizen('bob'), path);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect((await get(citizen('bob'), path, { 'if-none-match': etag })).status).toBe(304);
    expect((await get(citizen('bob'), path)).headers.get('etag')).toBe(etag); // stable while nothing changes
    await deliver(routed(id));
    const afterRouting = await get(citizen('bob'), path, { 'if-none-match': etag });
    expect(afterRouting.status).toBe(200);
    const etag2 = afterRouting.headers.get('etag')!;
    expect(etag2).not.toBe(etag);
    await deliver(routed(id)); // a repeat changes nothing
    expect((await get(citizen('bob'), path, { 'if-none-match': etag2 })).status).toBe(304);
    await deliver(routed(id, 'bauaufsicht', 2)); // a unit change (a re-routing: a newer decision) does
    const afterRerouting = await get(citizen('bob'), path, { 'if-none-match': etag2 });
    expect(afterRerouting.status).toBe(200);
    expect(((await afterRerouting.json()) as { unitId: string }).unitId).toBe('bauaufsicht');
    await deliver(routed(id, 'poststelle', 1)); // the older decision, arriving late, changes nothing
    expect((await get(citizen('bob'), path, { 'if-none-match': afterRerouting.headers.get('etag')! })).status).toBe(304);
  });

  it('lists newest first with stable cursors and filters', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await uploadOne(citizen('carol')));
    await deliver(routed(ids[1], 'bauaufsicht'));
    const seen: string[] = [];
    let cursor: string | null = null;
    let first = true;
    while (first || cursor) {
      const path: string = `/api/v1/documents?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = (await (await get(citizen('carol'), path)).json()) as { items: Array<{ id: string }>; nextCursor: string | null };
      if (first) ids.push(await uploadOne(citizen('carol'))); // an insert while paging
      first = false;
      seen.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual([...ids.slice(0, 5)].reverse());
    const filtered = (await (await get(official('a1'), '/api/v1/documents?unitId=bauaufsicht&status=ROUTED')).json()) as {
      items: Array<{ id: string }>;
    };
    expect(filtered.items.map((d) => d.id)).toContain(ids[1]);
    expect(filtered.items.every((d) => d.id !== ids[0])).toBe(true);
    expect((await get(citizen('carol'), '/api/v1/documents?limit=101')).status).toBe(400);
    expect((await get(citizen('carol'), '/api/v1/documents?cursor=garbage')).status).toBe(400);
  });
});
