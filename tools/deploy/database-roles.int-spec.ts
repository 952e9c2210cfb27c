/**
 * One database role per service (deploy/README.md, "Database roles"), against a real
 * Postgres: a cluster of this test's own (initdb), because the machine's shared one
 * trusts every local connection and so would prove nothing about passwords, and because
 * roles are cluster-wide. Role names are unique per run and dropped at the end anyway.
 *
 * The services' real migrations run as the owner (as the migrate Job does), with each
 * service's own connection URL: intake's role then reads and writes intake's tables,
 * cannot read routing-engine's, cannot create anything, starts the service's database
 * path (migrations applied: nothing to do), and a changed password is a rotation.
 */
import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { migrateOnly, openServiceDatabase, serviceRoleFrom, ServiceDataSourceOptions } from '@dvd/platform';
import { freePort, uniqueName } from '@dvd/testing';
// The services' own migrations and schemas: tests in tools/ may read apps (see deploy-inputs.ts).
/* eslint-disable @nx/enforce-module-boundaries */
import { databaseOptions as intakeDatabase } from '../../apps/intake/src/app.module';
import { databaseOptions as routingDatabase } from '../../apps/routing-engine/src/app.module';
/* eslint-enable @nx/enforce-module-boundaries */

const run = promisify(execFile);
const PG_BIN = process.env.DVD_PG_BIN ?? '/usr/lib/postgresql/15/bin';

function uidOf(user: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user} on this machine`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** A Postgres cluster of this test's own that checks passwords (scram-sha-256) on TCP. */
async function startCluster(dir: string, ownerPassword: string) {
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, ownerPassword);
  const pg = uidOf('postgres');
  chownSync(dir, pg.uid, pg.gid);
  chownSync(pwfile, pg.uid, pg.gid);
  const asPostgres = (bin: string, args: string[]) =>
    run('runuser', ['-u', 'postgres', '--', join(PG_BIN, bin), ...args], { timeout: 120_000 });
  await asPostgres('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    `--pwfile=${pwfile}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '--no-sync',
  ]);
  const port = await freePort();
  await asPostgres('pg_ctl', [
    '-D',
    data,
    '-l',
    join(dir, 'log'),
    '-w',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    'start',
  ]);
  return { port, stop: () => asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined) };
}

async function query(url: string, sql: string): Promise<unknown[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => 'succeeded',
    (err: { code?: string; message?: string }) => err.code ?? err.message,
  );

describe('one database role per service, limited to its schema', () => {
  const ownerPassword = `owner-${uniqueName('pw')}`;
  const run_ = uniqueName('r').replace(/[^a-z0-9_]/g, '_');
  const roles = { intake: `dvd_intake_${run_}`, routing: `dvd_routing_${run_}` };
  const passwords = { intake: `intake-password-${run_}`, routing: `routing-password-${run_}` };
  let dir: string;
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let owner: string;
  const as = (role: string, password: string) => `postgres://${role}:${encodeURIComponent(password)}@127.0.0.1:${cluster.port}/dvd`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dvd-roles-'));
    cluster = await startCluster(dir, ownerPassword);
    owner = `postgres://postgres:${encodeURIComponent(ownerPassword)}@127.0.0.1:${cluster.port}/dvd`;
    // the migrate Job: each service's migrations as the owner, with the service's own URL
    await migrateOnly(intakeDatabase({ DATABASE_URL: owner }), undefined, { serviceRoleUrl: as(roles.intake, passwords.intake) });
    await migrateOnly(routingDatabase({ DATABASE_URL: owner }), undefined, { serviceRoleUrl: as(roles.routing, passwords.routing) });
  }, 120_000);

  afterAll(async () => {
    if (cluster) {
      // roles are cluster-wide: drop them (and their grants) even though the cluster goes too
      await query(owner, `DROP OWNED BY ${roles.intake}, ${roles.routing}; DROP ROLE ${roles.intake}; DROP ROLE ${roles.routing}`).catch(
        () => undefined,
      );
      await cluster.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('intake’s role reads and writes intake’s tables', async () => {
    const url = as(roles.intake, passwords.intake);
    expect(await query(url, 'SELECT count(*)::int AS n FROM intake.documents')).toEqual([{ n: 0 }]);
    expect(await query(url, 'SELECT count(*)::int AS n FROM intake.outbox')).toEqual([{ n: 0 }]);
    expect(await failureOf(query(url, 'DELETE FROM intake.processed_events'))).toBe('succeeded');
  });

  it('intake’s role cannot read routing-engine’s tables, nor create anything', async () => {
    const url = as(roles.intake, passwords.intake);
    // 42501 insufficient_privilege
    expect(await failureOf(query(url, 'SELECT count(*) FROM routing.authorities'))).toBe('42501');
    expect(await failureOf(query(url, 'SELECT count(*) FROM routing.outbox'))).toBe('42501');
    expect(await failureOf(query(url, 'CREATE TABLE intake.extra (id int)'))).toBe('42501');
    expect(await failureOf(query(url, 'CREATE TABLE public.extra (id int)'))).toBe('42501');
    expect(await failureOf(query(url, 'CREATE SCHEMA mine'))).toBe('42501');
    // and routing-engine's role is as limited the other way round
    expect(await failureOf(query(as(roles.routing, passwords.routing), 'SELECT count(*) FROM intake.documents'))).toBe('42501');
    expect(await query(as(roles.routing, passwords.routing), 'SELECT count(*)::int AS n FROM routing.authorities')).toEqual([{ n: 0 }]);
  });

  it('the role has login rights only (no superuser, no CREATEROLE, no CREATEDB)', async () => {
    const rows = await query(
      owner,
      `SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = '${roles.intake}'`,
    );
    expect(rows).toEqual([
      { rolcanlogin: true, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false, rolbypassrls: false },
    ]);
  });

  it('the service starts its database on its own role once migrated (nothing to create, nothing pending)', async () => {
    const options: ServiceDataSourceOptions = intakeDatabase({ DATABASE_URL: as(roles.intake, passwords.intake) });
    const ds: DataSource = await openServiceDatabase(options);
    try {
      expect(await ds.query('SELECT current_user AS u')).toEqual([{ u: roles.intake }]);
    } finally {
      await ds.destroy();
    }
  });

  it('a changed password in the service’s Secret is a rotation: the next migrate sets it, the old one stops working', async () => {
    const rotated = `${passwords.intake}-rotated`;
    await migrateOnly(intakeDatabase({ DATABASE_URL: owner }), undefined, { serviceRoleUrl: as(roles.intake, rotated) });
    expect(await query(as(roles.intake, rotated), 'SELECT count(*)::int AS n FROM intake.documents')).toEqual([{ n: 0 }]);
    // 28P01 invalid_password
    expect(await failureOf(query(as(roles.intake, passwords.intake), 'SELECT 1'))).toBe('28P01');
    passwords.intake = rotated;
  });

  it('refuses to hand a service the owner’s role or a weak password, naming the variable but not the value', async () => {
    const ownerAsService = migrateOnly(intakeDatabase({ DATABASE_URL: owner }), undefined, {
      serviceRoleUrl: as('postgres', 'x'.repeat(20)),
    });
    await expect(ownerAsService).rejects.toThrow(/SERVICE_DATABASE_URL: names the role that runs the migrations/);
    expect(() => serviceRoleFrom(as('svc', 'short'))).toThrow(/SERVICE_DATABASE_URL: its password must be/);
    expect(() => serviceRoleFrom(as('Svc-Name', 'x'.repeat(20)))).toThrow(/SERVICE_DATABASE_URL: its user must be/);
    expect(() => serviceRoleFrom(as('svc', 'short'))).not.toThrow(/short/);
  });
});
