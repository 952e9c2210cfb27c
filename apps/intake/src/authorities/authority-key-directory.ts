import { Injectable } from '@nestjs/common';
import { InternalActiveKeysSchema } from '@dvd/contracts';
import { ApiError, InternalClient } from '@dvd/platform';

/** The client for routing-engine's internal API (key directory, re-routing), as intake's own injection token. */
export abstract class RoutingEngineClient {
  abstract getJson<T>(path: string, requestId?: string): Promise<T | null>;
  abstract postJson<T>(path: string, body: unknown, requestId?: string): Promise<T | null>;
}

/** Signed with intake's own SERVICE_SIGNING_KEY: routing-engine accepts it on `/internal/*` only (ADR 0014). */
export const routingEngineClient = (baseUrl: string, signingKey: string): RoutingEngineClient =>
  new InternalClient(baseUrl, signingKey, 'intake', 3_000);

type Answer = Set<string> | null;

interface Slot {
  current?: Promise<Answer>;
  next?: Promise<Answer>;
}

/**
 * Which keys of an authority are active, read through to routing-engine's key directory
 * on every upload (ADR 0010): a key is accepted the moment the API that added it answered
 * 201, and refused the moment its retirement answered 204. No cache to outlive a
 * retirement. Concurrent uploads for one authority share requests, but only requests sent
 * after they arrived: a caller that finds a lookup under way waits for the next one (at
 * most one in flight and one queued per authority), so a burst costs two round trips,
 * not one per upload, and no answer predates the upload that uses it.
 */
@Injectable()
export class AuthorityKeyDirectory {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly client: RoutingEngineClient) {}

  /** The active kids, or null if routing-engine does not know the authority. Unreachable → 503. */
  activeKids(authorityId: string): Promise<Answer> {
    const slot: Slot = this.slots.get(authorityId) ?? {};
    this.slots.set(authorityId, slot);
    const inFlight = slot.current;
    if (!inFlight) {
      const lookup = this.start(authorityId, slot);
      slot.current = lookup;
      return lookup;
    }
    // the lookup under way was sent before this caller arrived: join the next one
    slot.next ??= inFlight
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        slot.next = undefined;
        const lookup = this.start(authorityId, slot);
        slot.current = lookup;
        return lookup;
      });
    return slot.next;
  }

  private start(authorityId: string, slot: Slot): Promise<Answer> {
    const lookup: Promise<Answer> = this.fetch(authorityId).finally(() => {
      if (slot.current === lookup) slot.current = undefined;
      if (!slot.current && !slot.next && this.slots.get(authorityId) === slot) this.slots.delete(authorityId);
    });
    return lookup;
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
