const MINUTE = 60_000;
/** The longest wait between two attempts at one document (a store refusing for days still gets tried 4× a day). */
export const PURGE_BACKOFF_MAX_MS = 6 * 60 * MINUTE;

/** Delay before attempt `attempts + 1` of a document whose purge failed `attempts` times: 1, 2, 4 … min, capped at 6 h. */
export function purgeBackoffMs(attempts: number): number {
  const n = Math.max(1, Math.floor(attempts));
  return Math.min(MINUTE * 2 ** Math.min(n - 1, 30), PURGE_BACKOFF_MAX_MS);
}

/**
 * What may be stored and logged of a failure: S3's or Postgres's error code, or the
 * error's class name, and only if it looks like one (never a message, which may name a key
 * or a value).
 */
export function safeErrorCode(err: unknown): string {
  const e = err as { code?: unknown; Code?: unknown; name?: unknown };
  for (const candidate of [e?.code, e?.Code, e?.name]) {
    if (typeof candidate === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(candidate)) return candidate;
  }
  return 'Error';
}
