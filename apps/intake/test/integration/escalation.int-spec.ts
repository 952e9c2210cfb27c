import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { EventMap } from '@dvd/contracts';
import { TestUser, citizen, documentUpload, encryptCompact, makeEncryptionKey, official, pollUntil, signedHeaders } from '@dvd/testing';
import { OverdueSweeper } from '../../src/documents/overdue-sweeper';
import { createIntakeApp } from '../../src/main';
import { Intake, startIntake } from './intake-harness';

/**
 * Escalation of forgotten documents (ADR 0020) over the real Postgres and RabbitMQ: a
 * routed document nobody claims within its claimDeadline is reported once
 * (document.overdue), shows `overdue: true`, is listed by `?overdue=true` and counted by the
 * gauge; a claim clears it. Two replicas sweep.
 */
describe('overdue documents (real Postgres, RabbitMQ; two sweeping replicas)', () => {
  let intake: Intake;
  let second: INestApplication;

  const get = async (user: TestUser, path: string) => {
    const res = await fetch(`${intake.base}${path}`, { headers: signedHeaders(user, 'GET', path) });
    return (await res.json()) as Record<string, unknown> & { items?: Array<{ id: string; overdue: boolean }> };
  };
  const view = async (id: string, user: TestUser = official('a1')) => (await get(user, `/api/v1/documents/${id}`)) as { overdue: boolean };
  const overdueList = async (overdue = true) =>
    ((await get(official('a1'), `/api/v1/documents?limit=100&overdue=${overdue}`)).items ?? []).map((d) => d.id);

  /** `dvd_documents_overdue{authority_id=…}` as intake serves it, or undefined when the series is absent. */
  async function gauge(authorityId: string): Promise<number | undefined> {
    const text = await (await fetch(`${intake.base}/metrics`)).text();
    for (const line of text.split('\n')) {
      const m = /^dvd_documents_overdue\{([^}]*)\} (\d+)$/.exec(line);
      if (m && m[1].split(',').includes(`authority_id="${authorityId}"`)) return Number(m[2]);
    }
    return undefined;
  }

  async function upload(n = 1): Promise<string[]> {
    const key = await makeEncryptionKey('a1-k1');
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const { body, contentType } = documentUpload(
        { referenceNumber: `AZ-${i}`, authorityId: 'a1', documentType: 'ANTRAG' },
        await encryptCompact(key, 100),
      );
      const path = '/api/v1/documents';
      const res = await fetch(`${intake.base}${path}`, {
        method: 'POST',
        headers: { ...signedHeaders(citizen('alice'), 'POST', path, { body, contentType }), 'content-type': contentType },
        body,
      });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    return ids;
  }

  async function applied(envelope: { id: string }) {
    await pollUntil(
      async () => (await intake.sql.query('SELECT 1 FROM intake.processed_events WHERE event_id = $1', [envelope.id])).rowCount === 1,
      {
        what: 'event applied',
      },
    );
  }
  const route = async (documentId: string, claimDeadline: string) =>
    applied(
      await intake.probe.publish('document.routed', {
        documentId,
        authorityId: 'a1',
        unitId: 'poststelle',
        ruleId: null,
        revision: 1,
        claimDeadline,
      }),
    );
  const claim = async (documentId: string) =>
    applied(await intake.probe.publish('thread.claimed', { threadId: randomUUID(), documentId, officialId: 'o-1' }));

  /** Both replicas swept once more, every event relayed and read by the probe: what it has not seen was not published. */
  async function settled() {
    await Promise.all([intake.app.get(OverdueSweeper).run(), second.get(OverdueSweeper).run()]);
    await pollUntil(async () => (await intake.sql.query('SELECT count(*)::int AS n FROM intake.outbox')).rows[0].n === 0, {
      what: 'outbox relayed',
    });
    await intake.probe.barrier();
  }
  const overdueEvents = (ids: string[]) => intake.probe.of('document.overdue', (d) => ids.includes(d.documentId));

  beforeAll(async () => {
    intake = await startIntake({ OVERDUE_SWEEP_INTERVAL_MS: '200' });
    second = await createIntakeApp(intake.config); // a second replica on the same database
    await second.init();
    await intake.registerAuthority('a1', ['a1-k1']);
  }, 60_000);
  afterAll(async () => {
    await second?.close();
    await intake?.close();
  });

  it('reports a document routed with claimDeadline PT2S overdue once, lists and counts it, and a claim clears it', async () => {
    const [id] = await upload();
    const routedAt = Date.now();
    await route(id, 'PT2S');
    expect(await view(id)).toMatchObject({ status: 'ROUTED', overdue: false });
    expect(await overdueList()).not.toContain(id);
    expect(await gauge('a1')).toBe(0); // every known authority is reported, 0 included

    const event = await intake.probe.waitFor('document.overdue', (d) => d.documentId === id, 15_000);
    expect(Date.parse(event.occurredAt)).toBeGreaterThanOrEqual(routedAt + 2000 - 50); // not before the deadline
    expect(event.data).toEqual({ documentId: id, authorityId: 'a1', unitId: 'poststelle' }); // ids only
    expect(await view(id)).toMatchObject({ overdue: true });
    expect(await view(id, citizen('alice'))).toMatchObject({ overdue: true });
    expect(await overdueList()).toContain(id);
    expect(await overdueList(false)).not.toContain(id);
    expect(await gauge('a1')).toBe(1);

    await settled();
    expect(overdueEvents([id])).toHaveLength(1); // once, though both replicas kept sweeping

    await claim(id);
    expect(await view(id)).toMatchObject({ status: 'ASSIGNED', overdue: false });
    expect(await overdueList()).not.toContain(id);
    expect(await overdueList(false)).toContain(id);
    expect(await gauge('a1')).toBe(0);
    await settled();
    expect(overdueEvents([id])).toHaveLength(1); // a cleared document is not reported again
  });

  it('reports each of many due documents exactly once while two replicas sweep', async () => {
    const ids = await upload(30);
    for (const id of ids) await route(id, 'PT1S');
    await pollUntil(async () => overdueEvents(ids).length >= ids.length, { timeoutMs: 15_000, what: 'every document reported' });
    await settled();
    expect(overdueEvents(ids)).toHaveLength(ids.length);
    expect(new Set(overdueEvents(ids).map((e) => e.data.documentId)).size).toBe(ids.length);
    expect(await gauge('a1')).toBe(ids.length);
    for (const id of ids) await claim(id);
    expect(await gauge('a1')).toBe(0);
  });

  it('never reports a document claimed or exported before its deadline, and keeps the deadline of its first routing', async () => {
    const [claimed, exported, late] = await upload(3);
    await route(claimed, 'PT1S');
    await claim(claimed);
    await route(exported, 'PT1S');
    await applied(await intake.probe.publish('export.completed', { jobId: randomUUID(), documentId: exported, authorityId: 'a1' }));
    // an event of an older routing-engine (no claimDeadline): the default, P3D
    const before = { documentId: late, authorityId: 'a1', unitId: 'poststelle', ruleId: null };
    const old = await intake.probe.publish('document.routed', before as unknown as EventMap['document.routed']);
    await applied(old);
    await route(late, 'PT1S'); // a repeat with another deadline does not move it
    const deadlines = (
      await intake.sql.query(`SELECT id, overdue_at FROM intake.documents WHERE id = ANY($1::uuid[])`, [[claimed, exported, late]])
    ).rows as Array<{ id: string; overdue_at: Date }>;
    const of = (id: string) => deadlines.find((r) => r.id === id)!.overdue_at.getTime();
    expect(of(late) - Date.parse(old.occurredAt)).toBe(3 * 24 * 3600_000);
    // wait until the deadlines of the other two have passed, then sweep: nothing to report
    await pollUntil(async () => Date.now() > Math.max(of(claimed), of(exported)) + 100, { what: 'deadlines passed' });
    await settled();
    expect(overdueEvents([claimed, exported, late])).toEqual([]);
    expect(await view(claimed)).toMatchObject({ overdue: false });
    expect(await view(exported)).toMatchObject({ overdue: false });
  });

  it('answers 400 to an overdue filter other than true or false', async () => {
    const res = await fetch(`${intake.base}/api/v1/documents?overdue=yes`, {
      headers: signedHeaders(official('a1'), 'GET', '/api/v1/documents?overdue=yes'),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: Array<{ field: string }> }).errors.map((e) => e.field)).toEqual(['overdue']);
  });
});
