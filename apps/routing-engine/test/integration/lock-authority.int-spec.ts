import { DataSource } from 'typeorm';
import { ApiError, openServiceDatabase } from '@dvd/platform';
import { createTestDatabase, pollUntil, uniqueName } from '@dvd/testing';
import { databaseOptions } from '../../src/app.module';
import { lockAuthority } from '../../src/authorities/lock-authority';

describe('lockAuthority: the authority row locked for the transaction, or 404 (real Postgres)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ds: DataSource;

  async function authority(): Promise<string> {
    const id = uniqueName('auth');
    // the other columns have defaults (ingest secrets live in their own table)
    await ds.query(
      `INSERT INTO authorities (id, name, ingest_url, retention_period) VALUES ($1, 'Amt', 'https://ingest.example', 'P30D')`,
      [id],
    );
    return id;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await openServiceDatabase(databaseOptions({ DATABASE_URL: db.url }));
  });
  afterAll(async () => {
    await ds?.destroy();
    await db.drop();
  });

  it('returns the row of an existing authority', async () => {
    const id = await authority();
    const found = await ds.transaction((m) => lockAuthority(m, id));
    expect(found).toMatchObject({ id, name: 'Amt', rulesVersion: 0 });
  });

  it('answers 404 authority-not-found for an unknown id', async () => {
    const err: unknown = await ds.transaction((m) => lockAuthority(m, 'no-such-authority')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404, code: 'authority-not-found' });
  });

  it('makes a second change of the same authority wait until the first commits, and then see it', async () => {
    const id = await authority();
    const order: string[] = [];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const firstLocked = new Promise<void>((r) => (locked = r));

    const first = ds.transaction(async (m) => {
      await lockAuthority(m, id);
      locked();
      await m.query(`UPDATE authorities SET rules_version = rules_version + 1 WHERE id = $1`, [id]);
      await released;
      order.push('first commits');
    });
    await firstLocked;
    const second = ds.transaction(async (m) => {
      const a = await lockAuthority(m, id);
      order.push('second locked');
      return a.rulesVersion;
    });
    // the marker: the second transaction's backend waits on a row lock
    await pollUntil(
      async () => {
        const waiting: unknown[] = await ds.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%FOR UPDATE%'`,
        );
        return waiting.length > 0;
      },
      { what: 'the second transaction waiting for the row lock' },
    );
    expect(order).toEqual([]);
    release();
    await first;
    expect(await second).toBe(1);
    expect(order).toEqual(['first commits', 'second locked']);
  });
});
