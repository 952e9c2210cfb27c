/** Socket-level error codes of Node and of the `pg` driver that mean "the database is not reachable". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

/**
 * SQLSTATEs that say the server cannot serve this connection now: class 08 (connection
 * exception), admin/crash shutdown, "the database system is starting up", too many
 * connections. A constraint violation or a syntax error is not among them.
 */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** Messages of `pg` and `pg-pool` that carry no code. */
const DRIVER_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Client has encountered a connection error and is not queryable/,
  /^Cannot use a pool after calling end on the pool/,
  /^Client was closed and is not queryable/,
  /^connect ECONNREFUSED/,
];

/**
 * True when `err` (or its `driverError`/`cause`, as TypeORM and `pg` wrap them) says the
 * database could not be reached, as opposed to a failure of the work itself. The consumer
 * pauses on such errors instead of spending a retry.
 */
export function isConnectionError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') {
    if (NETWORK_CODES.has(e.code) || SQLSTATES.has(e.code) || e.code.startsWith('08')) return true;
  }
  if (typeof e.message === 'string' && DRIVER_MESSAGES.some((re) => re.test(e.message as string))) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isConnectionError(inner, depth + 1))) return true; // AggregateError (IPv4+IPv6)
  return isConnectionError(e.driverError, depth + 1) || isConnectionError(e.cause, depth + 1);
}
