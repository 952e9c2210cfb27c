import { INestApplication } from '@nestjs/common';
import { citizen, documentUpload, encryptCompact, makeEncryptionKey, pollUntil, signedHeaders } from '@dvd/testing';
import { createIntakeApp } from '../../src/main';
import { RetentionReaper } from '../../src/retention/retention-reaper';
import { Intake, startIntake } from './intake-harness';

describe('retention reaper (real Postgres, RabbitMQ, local S3)', () => {
  let intake: Intake;
  let second: INestApplication;

  async function upload(n: number): Promise<string[]> {
    const key = await makeEncryptionKey('a1-k1');
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const { body, contentType } = documentUpload(
        { referenceNumber: `AZ-${i}`, authorityId: 'a1', documentType: 'X' },
        await encryptCompact(key, 2000),
      );
      const path = '/api/v1/documents';
      const res = await fetch(`${intake.base}${path}`, {
        method: 'POST',
        headers: {
          ...signedHeaders(citizen(`c${i}`), 'POST', path),
          'content-type': contentType,
          'idempotency-key': `k-${i}-${Math.random()}`,
        },
        body,
      });
      if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${await res.text()}`);
      ids.push(((await res.json()) as { id: string }).id);
    }
    return ids;
  }
  const expire = (ids: string[]) =>
    intake.sql.query(`UPDATE intake.documents SET retention_date = now() - interval '1 second' WHERE id = ANY($1::uuid[])`, [ids]);

  beforeAll(async () => {
    intake = await startIntake({ REAPER_INTERVAL_MS: '3600000' });
    await intake.registerAuthority('a1', ['a1-k1'], 'PT2S');
    second = await createIntakeApp(intake.config); // a second replica on the same database and bucket
    await second.init();
  }, 60_000);

  afterAll(async () => {
    await second?.close();
    await intake?.close();
  });

  it('purges expired documents with their objects and idempotency records, publishing document.purged and an audit line each', async () => {
    const ids = await upload(3);
    const keep = await upload(1);
    await intake.sql.query(`UPDATE intake.documents SET retention_date = now() + interval '1 day' WHERE id = $1`, [keep[0]]);
    await pollUntil(
      async () => (await intake.sql.query(`SELECT count(*)::int AS n FROM intake.documents WHERE retention_date <= now()`)).rows[0].n === 3,
      { what: 'PT2S to pass', timeoutMs: 10_000 },
    );
    expect(await intake.app.get(RetentionReaper).run()).toBe(3);
    const left = await intake.sql.query(`SELECT id FROM intake.documents`);
    expect(left.rows.map((r: { id: string }) => r.id)).toEqual(keep);
    expect(await intake.objectKeys()).toEqual([`documents/${keep[0]}`]);
    expect(
      (await intake.sql.query(`SELECT count(*)::int AS n FROM intake.idempotency_keys WHERE document_id = ANY($1::uuid[])`, [ids])).rows[0]
        .n,
    ).toBe(0);
    for (const id of ids) await intake.probe.waitFor('document.purged', (d) => d.documentId === id);
    const path = `/api/v1/documents/${ids[0]}`;
    expect((await fetch(`${intake.base}${path}`, { headers: signedHeaders(citizen('c0'), 'GET', path) })).status).toBe(404);
  });

  it('finishes a pass that crashed between deleting the objects and deleting the rows', async () => {
    const ids = await upload(2);
    await expire(ids);
    const crashed = intake.app.get(RetentionReaper).run({
      afterObjectsDeleted: async () => {
        throw new Error('process died here');
      },
    });
    expect(await crashed).toBe(0);
    expect((await intake.sql.query(`SELECT count(*)::int AS n FROM intake.documents WHERE id = ANY($1::uuid[])`, [ids])).rows[0].n).toBe(2); // rows still there
    expect((await intake.objectKeys()).filter((k) => ids.some((id) => k.endsWith(id)))).toEqual([]); // objects already gone
    expect(await intake.app.get(RetentionReaper).run()).toBe(2);
    expect((await intake.sql.query(`SELECT count(*)::int AS n FROM intake.documents WHERE id = ANY($1::uuid[])`, [ids])).rows[0].n).toBe(0);
  });

  it('shares a backlog between two replicas without double work', async () => {
    const ids = await upload(30);
    await expire(ids);
    const before = intake.probe.of('document.purged').length;
    const [a, b] = await Promise.all([intake.app.get(RetentionReaper).run(), second.get(RetentionReaper).run()]);
    expect(a + b).toBe(30);
    await pollUntil(async () => intake.probe.of('document.purged').length === before + 30, { what: '30 purge events' });
    const purgedIds = intake.probe.of('document.purged').map((e) => e.data.documentId);
    for (const id of ids) expect(purgedIds.filter((x) => x === id)).toHaveLength(1);
  });
});
