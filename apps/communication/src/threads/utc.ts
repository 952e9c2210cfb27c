/** Normalises RFC 3339 instants to UTC ISO strings, so equal instants compare equal. */
export function utc(instantText: string): string {
  return new Date(instantText).toISOString();
}
