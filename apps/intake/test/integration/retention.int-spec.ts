import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { INestApplication } from '@nestjs/common';
import { ObjectStorage } from '@dvd/platform';
import { citizen, documentUpload, encryptCompact, makeEncryptionKey, pollUntil, signedHeaders } from '@dvd/testing';
import { createIntakeApp } from '../../src/main';
import { REAP_BATCH, RetentionReaper } from '../../src/retention/retention-reaper';
import { Intake, startIntake } from './intake-harness';

async function uploadTo(intake: Intake, n: number): Promise<string[]> {
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
        ...signedHeaders(citizen(`c${i}`), 'POST', path, { body, contentType }),
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

/** Fault injection at the storage boundary: the store refuses to delete these keys (as with a bucket policy or object lock). */
function refuseDeletes(intake: Intake | INestApplication) {
  const storage = ('app' in intake ? intake.app : intake).get(ObjectStorage);
  const refused = new Set<string>();
  const original = storage.delete.bind(storage);
  storage.delete = async (key, o) => {
    if (refused.has(key)) throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    return original(key, o);
  };
  return { refused, restore: () => void (storage.delete = original) };
}

describe('retention reaper (real Postgres, RabbitMQ, local S3)', () => {
  let intake: Intake;
  let second: INestApplication;
  const upload = (n: number) => uploadTo(intake, n);
  const expire = (ids: string[], secondsAgo = 1) =>
    intake.sql.query(`UPDATE intake.documents SET retention_date = now() - ($2::int * interval '1 second') WHERE id = ANY($1::uuid[])`, [
      ids,
      secondsAgo,
    ]);
  const rowsOf = async (ids: string[]) =>
    (
      await intake.sql.query(
        `SELECT id, purge_attempts, purge_error_code, purge_next_at > now() AS backing_off FROM intake.documents WHERE id = ANY($1::uuid[]) ORDER BY id`,
        [ids],
      )
    ).rows as Array<{ id: string; purge_attempts: number; purge_error_code: string | null; backing_off: boolean }>;
  /** What a later pass sees once the backoff has run out. */
  const backoffElapsed = (ids: string[]) =>
    intake.sql.query(`UPDATE intake.documents SET purge_next_at = now() - interval '1 second' WHERE id = ANY($1::uuid[])`, [ids]);
  const reaper = () => intake.app.get(RetentionReaper);

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
    expect(await reaper().run()).toMatchObject({ purged: 3, failed: 0, deferred: 0 });
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

  it('finishes a document whose purge broke off between deleting the object and deleting the row', async () => {
    const ids = await upload(2);
    await expire(ids);
    const crashed = await reaper().run({
      afterObjectDeleted: async () => {
        throw new Error('process died here');
      },
    });
    expect(crashed).toMatchObject({ purged: 0, failed: 2 });
    expect(await rowsOf(ids)).toEqual(ids.sort().map((id) => ({ id, purge_attempts: 1, purge_error_code: 'Error', backing_off: true })));
    expect((await intake.objectKeys()).filter((k) => ids.some((id) => k.endsWith(id)))).toEqual([]); // objects already gone
    await backoffElapsed(ids);
    expect(await reaper().run()).toMatchObject({ purged: 2, failed: 0 });
    expect(await rowsOf(ids)).toEqual([]);
  });

  it('purges the others when one object cannot be deleted, and that one later, once it can', async () => {
    const ids = await upload(4);
    await expire(ids);
    const [stuck, ...others] = ids;
    await expire([stuck], 60); // the oldest: first in line
    const fault = refuseDeletes(intake);
    fault.refused.add(`documents/${stuck}`);
    try {
      const first = await reaper().run();
      expect(first).toMatchObject({ purged: 3, failed: 1, deferred: 1 });
      expect(await rowsOf(ids)).toEqual([{ id: stuck, purge_attempts: 1, purge_error_code: 'AccessDenied', backing_off: true }]);
      for (const id of others) await intake.probe.waitFor('document.purged', (d) => d.documentId === id);
      expect(await intake.objectKeys()).toContain(`documents/${stuck}`);

      // the next pass leaves it alone while it backs off, and does not stall on it
      const fresh = await upload(1);
      await expire(fresh);
      expect(await reaper().run()).toMatchObject({ purged: 1, failed: 0, deferred: 1 });

      // after the backoff it is tried again; the store still refuses: attempt 2, longer wait
      await backoffElapsed([stuck]);
      expect(await reaper().run()).toMatchObject({ purged: 0, failed: 1, deferred: 1 });
      expect(await rowsOf([stuck])).toEqual([{ id: stuck, purge_attempts: 2, purge_error_code: 'AccessDenied', backing_off: true }]);
    } finally {
      fault.restore();
    }
    await backoffElapsed([stuck]);
    expect(await reaper().run()).toMatchObject({ purged: 1, failed: 0, deferred: 0 });
    expect(await rowsOf([stuck])).toEqual([]);
    expect(await intake.objectKeys()).not.toContain(`documents/${stuck}`);
    await intake.probe.waitFor('document.purged', (d) => d.documentId === stuck);

    const metrics = await (await fetch(`${intake.base}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(value('dvd_reaper_failures_total')).toBeGreaterThanOrEqual(2);
    expect(value('dvd_reaper_purged_total')).toBeGreaterThanOrEqual(5);
    expect(value('dvd_reaper_last_run_timestamp_seconds')).toBeGreaterThan(0);
    expect(metrics).toMatch(/dvd_reaper_runs_total\{[^}]*outcome="completed"[^}]*\} \d+/);
    expect(metrics).not.toContain(stuck); // ids are not metric labels
  });

  it('does not stall when more objects than a whole batch cannot be deleted', async () => {
    const stuck = await upload(REAP_BATCH + 2);
    const deletable = await upload(3);
    await expire(stuck, 120); // all older than the deletable ones
    await expire(deletable, 1);
    const fault = refuseDeletes(intake);
    for (const id of stuck) fault.refused.add(`documents/${id}`);
    try {
      expect(await reaper().run()).toMatchObject({ purged: 3, failed: REAP_BATCH + 2 });
      expect(await rowsOf(deletable)).toEqual([]);
    } finally {
      fault.restore();
    }
    await backoffElapsed(stuck);
    expect(await reaper().run()).toMatchObject({ purged: REAP_BATCH + 2, failed: 0 });
  });

  it('shares a backlog between two replicas without double work', async () => {
    const ids = await upload(30);
    await expire(ids);
    const before = intake.probe.of('document.purged').length;
    const [a, b] = await Promise.all([reaper().run(), second.get(RetentionReaper).run()]);
    expect(a.purged + b.purged).toBe(30);
    await pollUntil(async () => intake.probe.of('document.purged').length === before + 30, { what: '30 purge events' });
    const purgedIds = intake.probe.of('document.purged').map((e) => e.data.documentId);
    for (const id of ids) expect(purgedIds.filter((x) => x === id)).toHaveLength(1);
  });
});

describe('retention reaper on a versioned bucket (moto_server; s3rver has no versioning)', () => {
  let intake: Intake;

  beforeAll(async () => {
    intake = await startIntake({ REAPER_INTERVAL_MS: '3600000' }, { versionedS3: true });
    await intake.registerAuthority('a1', ['a1-k1']);
  }, 60_000);
  afterAll(() => intake?.close());

  it('leaves no version and no delete marker of a purged document', async () => {
    const [id, keep] = await uploadTo(intake, 2);
    await intake.sql.query(`UPDATE intake.documents SET retention_date = now() - interval '1 second' WHERE id = $1`, [id]);
    const versions = async (key: string) => {
      const out = await intake.storage.client.send(new ListObjectVersionsCommand({ Bucket: intake.storage.bucket, Prefix: key }));
      return [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].filter((v) => v.Key === key).length;
    };
    expect(await versions(`documents/${id}`)).toBe(1);
    expect(await intake.app.get(RetentionReaper).run()).toMatchObject({ purged: 1, failed: 0 });
    expect(await versions(`documents/${id}`)).toBe(0);
    expect(await versions(`documents/${keep}`)).toBe(1);
  });
});
