import { Client } from 'pg';
import { MigrationInterface, QueryRunner } from 'typeorm';
import { BASE_DATABASE_URL, uniqueName } from '@dvd/testing';
import { ensureDatabase, migrateOnly, openServiceDatabase } from './database';

class CreateWidgets1700000000000 implements MigrationInterface {
  name = 'CreateWidgets1700000000000';
  async up(q: QueryRunner) {
    await q.query(`CREATE TABLE svc.widgets (id int PRIMARY KEY)`);
    await q.query(`SELECT pg_sleep(0.2)`); // widen the race window
  }
  async down(q: QueryRunner) {
    await q.query(`DROP TABLE svc.widgets`);
  }
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: BASE_DATABASE_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('database building block (real PostgreSQL)', () => {
  const name = uniqueName('dvd_test_db');
  const url = (() => {
    const u = new URL(BASE_DATABASE_URL);
    u.pathname = `/${name}`;
    return u.toString();
  })();

  afterAll(async () => {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  });

  it('creates the database named in DATABASE_URL when missing, also when replicas race', async () => {
    await Promise.all([ensureDatabase(url), ensureDatabase(url), ensureDatabase(url)]);
    const rows = await admin((c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]));
    expect(rows.rowCount).toBe(1);
  });

  it('migrates exactly once when several replicas start at the same time', async () => {
    const options = { url, schema: 'svc', entities: [], migrations: [CreateWidgets1700000000000] };
    const [a, b, c] = await Promise.all([openServiceDatabase(options), openServiceDatabase(options), openServiceDatabase(options)]);
    const applied = await a.query(`SELECT name FROM svc.migrations`);
    expect(applied).toEqual([{ name: 'CreateWidgets1700000000000' }]);
    // the service's schema is its search_path: unqualified SQL lands in it
    await b.query(`INSERT INTO widgets (id) VALUES (1)`);
    expect(await c.query(`SELECT id FROM svc.widgets`)).toEqual([{ id: 1 }]);
    await Promise.all([a.destroy(), b.destroy(), c.destroy()]);
    expect(await migrateOnly(options)).toEqual([]); // nothing pending on the next start
  });
});
