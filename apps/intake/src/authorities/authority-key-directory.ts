import { Injectable } from '@nestjs/common';
import { InternalActiveKeysSchema } from '@dvd/contracts';
import { ApiError, InternalClient } from '@dvd/platform';
import { FreshLookups } from './fresh-lookups';

/** The client for routing-engine's internal API (key directory, re-routing), as intake's own injection token. */
export abstract class RoutingEngineClient {
  abstract getJson<T>(path: string, requestId?: string): Promise<T | null>;
  abstract postJson<T>(path: string, body: unknown, requestId?: string): Promise<T | null>;
}

/** Signed with intake's own SERVICE_SIGNING_KEY: routing-engine accepts it on `/internal/*` only (ADR 0014). */
export const routingEngineClient = (baseUrl: string, signingKey: string): RoutingEngineClient =>
  new InternalClient(baseUrl, signingKey, 'intake', 3_000);

type Answer = Set<string> | null;

/**
 * Which keys of an authority are active, read through to routing-engine's key directory
 * on every upload (ADR 0010): a key is accepted the moment the API that added it answered
 * 201, and refused the moment its retirement answered 204. No cache to outlive a
 * retirement. Concurrent uploads for one authority share requests sent after they arrived
 * ({@link FreshLookups}): a burst costs two round trips, not one per upload.
 */
@Injectable()
export class AuthorityKeyDirectory {
  private readonly lookups = new FreshLookups<Answer>((authorityId) => this.fetch(authorityId), {
    // the client gives up after 3 s itself; this is the backstop
    timeoutMs: 5_000,
    timedOut: () => ApiError.unavailable('The authority key directory is unavailable; retry later'),
  });

  constructor(private readonly client: RoutingEngineClient) {}

  /** The active kids, or null if routing-engine does not know the authority. Unreachable → 503. */
  activeKids(authorityId: string): Promise<Answer> {
    return this.lookups.get(authorityId);
  }

  private async fetch(authorityId: string): Promise<Answer> {
    let raw: unknown;
    try {
      raw = await this.client.getJson<unknown>(`/internal/authorities/${encodeURIComponent(authorityId)}/active-kids`);
    } catch {
      throw ApiError.unavailable('The authority key directory is unavailable; retry later');
    }
    if (raw === null) return null;
    const parsed = InternalActiveKeysSchema.safeParse(raw);
    if (!parsed.success || parsed.data.authorityId !== authorityId) {
      throw ApiError.unavailable('The authority key directory is unavailable; retry later');
    }
    return new Set(parsed.data.activeKeyIds);
  }
}
