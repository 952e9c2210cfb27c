import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { escapeIdentifier, escapeLiteral } from 'pg';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';

/**
 * One database role per service (deploy/README.md, "Database roles"): `main.js migrate`,
 * run as the schema owner, creates (or updates) the login role named in the service's own
 * connection URL, with that URL's password, and grants it the use of the service's schema
 * and nothing else: read and write its tables and sequences, no DDL, no other schema. A
 * pod holding one service's credentials can open that service's data only.
 *
 * The password reaches Postgres as a SCRAM-SHA-256 verifier computed here (as psql's
 * \password does), never as plain text that a statement log could keep.
 */
export interface ServiceRoleGrant {
  role: string;
  schema: string;
  created: boolean;
}

/** A lowercase SQL identifier: no quoting surprises, and what managed Postgres services accept. */
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** SASLprep leaves printable ASCII unchanged; other characters would need it, so they are refused. */
const PASSWORD = /^[\x21-\x7e]{16,256}$/;

export class ServiceRoleError extends Error {
  constructor(message: string) {
    super(`SERVICE_DATABASE_URL: ${message}`);
    this.name = 'ServiceRoleError';
  }
}

/** The role name and password in a service's connection URL (checked, never echoed). */
export function serviceRoleFrom(serviceUrl: string): { role: string; password: string } {
  let url: URL;
  try {
    url = new URL(serviceUrl);
  } catch {
    throw new ServiceRoleError('is not a URL');
  }
  const role = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  if (!ROLE_NAME.test(role)) throw new ServiceRoleError('its user must be a lowercase SQL identifier (a-z, 0-9, _; at most 63)');
  if (!PASSWORD.test(password)) throw new ServiceRoleError('its password must be 16 to 256 printable ASCII characters');
  return { role, password };
}

/** A SCRAM-SHA-256 verifier in Postgres's format (RFC 5802, RFC 7677; as libpq's PQencryptPasswordConn makes it). */
export function scramSha256Verifier(password: string, o: { salt?: Buffer; iterations?: number } = {}): string {
  const salt = o.salt ?? randomBytes(16);
  const iterations = o.iterations ?? 4096;
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * Creates or updates the service's login role and grants it its own schema. Idempotent:
 * run it on every migration (a changed password in the service's Secret is a rotation).
 * Refuses the migrating role itself and a role with more than login rights.
 */
export async function grantServiceRole(ds: DataSource, schema: string, serviceUrl: string, log?: Logger): Promise<ServiceRoleGrant> {
  const { role, password } = serviceRoleFrom(serviceUrl);
  const [{ owner, database }] = (await ds.query('SELECT current_user AS owner, current_database() AS database')) as Array<{
    owner: string;
    database: string;
  }>;
  if (role === owner) throw new ServiceRoleError('names the role that runs the migrations; give the service a role of its own');
  const existing = (await ds.query(
    'SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls AS powerful FROM pg_roles WHERE rolname = $1',
    [role],
  )) as Array<{ powerful: boolean }>;
  if (existing[0]?.powerful) throw new ServiceRoleError(`role ${role} has more than login rights; refusing to use it for a service`);

  const id = escapeIdentifier(role);
  const s = escapeIdentifier(schema);
  const attributes = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT PASSWORD ${escapeLiteral(scramSha256Verifier(password))}`;
  await ds.transaction(async (m) => {
    await m.query(existing.length ? `ALTER ROLE ${id} WITH ${attributes}` : `CREATE ROLE ${id} WITH ${attributes}`);
    await m.query(`GRANT CONNECT ON DATABASE ${escapeIdentifier(database)} TO ${id}`);
    await m.query(`GRANT USAGE ON SCHEMA ${s} TO ${id}`);
    await m.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${id}`);
    await m.query(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${s} TO ${id}`);
    // tables and sequences that later migrations (run by this owner) create
    await m.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${id}`);
    await m.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${id}`);
  });
  log?.info({ schema, role, created: existing.length === 0 }, 'service database role granted its schema');
  return { role, schema, created: existing.length === 0 };
}
