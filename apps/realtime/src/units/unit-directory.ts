import { Logger } from '@nestjs/common';
import { ApiError, InternalClient } from '@dvd/platform';

const FOUND_TTL_MS = 5 * 60_000;
const MISSING_TTL_MS = 30_000;
const MAX_ENTRIES = 10_000;

/**
 * Does an authority have a unit? Asked of routing-engine (`/internal/authorities/{id}/units/{unitId}`,
 * which accepts realtime only) when an official opens a stream with `?unitId=`, and kept for a
 * while: a unit found for 5 minutes, one not found for 30 s. Realtime keeps no database.
 */
export class UnitDirectory {
  private readonly logger = new Logger(UnitDirectory.name);
  private readonly cache = new Map<string, { found: boolean; until: number }>();

  constructor(private readonly routing: InternalClient) {}

  /** Throws 404 for a unit the authority does not have, 503 when routing-engine does not answer. */
  async assertUnit(authorityId: string, unitId: string, requestId: string): Promise<void> {
    const key = `${authorityId}/${unitId}`;
    const cached = this.cache.get(key);
    let found = cached && cached.until > Date.now() ? cached.found : undefined;
    if (found === undefined) {
      try {
        found =
          (await this.routing.getJson(
            `/internal/authorities/${encodeURIComponent(authorityId)}/units/${encodeURIComponent(unitId)}`,
            requestId,
          )) !== null;
      } catch (err) {
        this.logger.warn({ errorName: (err as Error).name }, 'routing-engine did not answer a unit check');
        throw ApiError.unavailable('The unit could not be checked; retry shortly');
      }
      if (this.cache.size >= MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, { found, until: Date.now() + (found ? FOUND_TTL_MS : MISSING_TTL_MS) });
    }
    if (!found) throw ApiError.notFound('unit');
  }
}
