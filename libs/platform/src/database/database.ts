import { Client } from 'pg';
import { DataSource, DataSourceOptions, MixedList, EntitySchema } from 'typeorm';
import type { Logger } from 'pino';
import { grantServiceRole } from './service-role';

/**
 * Creates the database named in `url` if it does not exist (safe when racing replicas). A
 * database that accepts the connection is left alone, so a service's own role (which may
 * connect to its database only) never needs the maintenance database.
 */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  const probe = new Client({ connectionString: url });
  try {
    await probe.connect();
    return;
  } catch (err) {
    // 3D000 invalid_catalog_name: the database does not exist yet
    if ((err as { code?: string }).code !== '3D000') throw err;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      } catch (err) {
        // 42P04 duplicate_database: another replica created it first; 23505 likewise.
        const code = (err as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw err;
      }
    }
  } finally {
    await client.end();
  }
}

export interface ServiceDataSourceOptions {
  url: string;
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  poolSize?: number;
  applicationName?: string;
}

/** TypeORM options for one service: its own schema, migrations only (never synchronize). */
export function serviceDataSourceOptions(o: ServiceDataSourceOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url: o.url,
    schema: o.schema,
    entities: o.entities,
    migrations: o.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: {
      max: o.poolSize ?? 10,
      application_name: o.applicationName ?? o.schema,
      // raw SQL (outbox, processed events, hot queries) resolves to the service's schema
      options: `-c search_path="${o.schema}"`,
    },
  };
}

/**
 * Ensures the service's schema exists, then runs pending migrations under an advisory lock,
 * so that several replicas starting at once migrate exactly once. With `serviceRoleUrl`
 * (`main.js migrate` with SERVICE_DATABASE_URL) it then creates or updates the service's own
 * login role, limited to this schema (service-role.ts).
 *
 * A service running as such a role (no CREATE rights) starts fine once its migrations are
 * applied: nothing is created when the schema exists and nothing is pending.
 */
export async function migrate(ds: DataSource, schema: string, log?: Logger, o: MigrateOptions = {}): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`dvd-migrations:${schema}`]);
    const found = (await runner.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])) as unknown[];
    if (found.length === 0) await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const done = await ds.runMigrations({ transaction: 'each' });
    if (done.length) log?.info({ schema, migrations: done.map((m) => m.name) }, 'migrations applied');
    if (o.serviceRoleUrl) await grantServiceRole(ds, schema, o.serviceRoleUrl, log);
    return done.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`dvd-migrations:${schema}`]).catch(() => undefined);
    await runner.release();
  }
}

export interface MigrateOptions {
  /** The service's own connection URL: its user becomes a login role limited to the schema. */
  serviceRoleUrl?: string;
}

/** Creates, initialises and migrates a service's DataSource. */
export async function openServiceDatabase(o: ServiceDataSourceOptions, log?: Logger): Promise<DataSource> {
  await ensureDatabase(o.url);
  const ds = new DataSource(serviceDataSourceOptions(o));
  await ds.initialize();
  try {
    await migrate(ds, o.schema, log);
  } catch (err) {
    await ds.destroy();
    throw err;
  }
  return ds;
}

/** Applies a service's pending migrations (and grants its role, see `migrate`), then disconnects (`node main.js migrate`). */
export async function migrateOnly(o: ServiceDataSourceOptions, log?: Logger, m: MigrateOptions = {}): Promise<string[]> {
  await ensureDatabase(o.url);
  const ds = new DataSource(serviceDataSourceOptions(o));
  await ds.initialize();
  try {
    return await migrate(ds, o.schema, log, m);
  } finally {
    await ds.destroy();
  }
}
