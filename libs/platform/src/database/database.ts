import { Client } from 'pg';
import { DataSource, DataSourceOptions, MixedList, EntitySchema } from 'typeorm';
import type { Logger } from 'pino';

/** Creates the database named in `url` if it does not exist (safe when racing replicas). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
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
 * Ensures the database and the service's schema exist, then runs pending migrations
 * under an advisory lock, so that several replicas starting at once migrate exactly once.
 */
export async function migrate(ds: DataSource, schema: string, log?: Logger): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`dvd-migrations:${schema}`]);
    await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const done = await ds.runMigrations({ transaction: 'each' });
    if (done.length) log?.info({ schema, migrations: done.map((m) => m.name) }, 'migrations applied');
    return done.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`dvd-migrations:${schema}`]).catch(() => undefined);
    await runner.release();
  }
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

/** Applies a service's pending migrations and disconnects (`node main.js migrate`). */
export async function migrateOnly(o: ServiceDataSourceOptions, log?: Logger): Promise<string[]> {
  await ensureDatabase(o.url);
  const ds = new DataSource(serviceDataSourceOptions(o));
  await ds.initialize();
  try {
    return await migrate(ds, o.schema, log);
  } finally {
    await ds.destroy();
  }
}
