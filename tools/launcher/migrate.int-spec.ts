import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { SERVICE_SCHEMA } from '@dvd/contracts';
import { createTestDatabase } from '@dvd/testing';
import { MIGRATING_APPS } from './migrate';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const MIGRATE = join(ROOT, 'dist', 'tools', 'launcher', 'migrate.js');

/** The migration files of an app (`<epoch>-<Name>.ts`), as the source tree has them. */
function migrationFiles(app: string): string[] {
  return readdirSync(join(ROOT, 'apps', app, 'src', 'migrations')).filter((f) => /^\d+-.+\.ts$/.test(f));
}

describe('npm run migrate (dist/tools/launcher/migrate.js)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sql: Client;

  beforeAll(async () => {
    if (!existsSync(MIGRATE)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    db = await createTestDatabase();
    sql = new Client({ connectionString: db.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await db?.drop();
  });

  const migrate = (databaseUrl: string) =>
    run(process.execPath, [MIGRATE], { env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' } });

  it('migrates every service with a schema', () => {
    expect([...MIGRATING_APPS].sort()).toEqual(Object.keys(SERVICE_SCHEMA).sort());
  });

  it('creates every service schema with its tables in a fresh database, and applies nothing the second time', async () => {
    const first = await migrate(db.url);
    for (const app of MIGRATING_APPS) expect(first.stdout).toContain(`${app}: migrated`);

    for (const app of MIGRATING_APPS) {
      const schema = SERVICE_SCHEMA[app];
      const applied = await sql.query<{ name: string }>(`SELECT name FROM "${schema}".migrations ORDER BY id`);
      expect(applied.rows.length).toBe(migrationFiles(app).length);
      const tables = await sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'migrations'`,
        [schema],
      );
      expect(tables.rows[0].n).toBeGreaterThan(0);
    }
    const expected = [
      ['intake', 'documents'],
      ['routing', 'authorities'],
      ['communication', 'threads'],
      ['export', 'export_jobs'],
    ];
    for (const [schema, table] of expected) {
      const found = await sql.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`, [schema, table]);
      expect({ schema, table, found: found.rowCount }).toEqual({ schema, table, found: 1 });
    }

    const counts = async () =>
      Promise.all(
        MIGRATING_APPS.map(
          async (app) => (await sql.query(`SELECT count(*)::int AS n FROM "${SERVICE_SCHEMA[app]}".migrations`)).rows[0].n as number,
        ),
      );
    const before = await counts();
    await migrate(db.url);
    expect(await counts()).toEqual(before);
  });

  it('exits non-zero, naming the service, when a service cannot migrate', async () => {
    // a database server that is not there: the first service fails, the rest are not tried
    const unreachable = new URL(db.url);
    unreachable.port = '1';
    const failed = await migrate(unreachable.toString()).then(
      () => undefined,
      (err: { code?: number; stdout?: string }) => err,
    );
    expect(failed?.code).not.toBe(0);
    expect(failed?.code).toBeDefined();
    expect(failed?.stdout).toContain(`${MIGRATING_APPS[0]}: migration failed`);
    expect(failed?.stdout).not.toContain(`${MIGRATING_APPS[1]}: migrated`);
  });
});
