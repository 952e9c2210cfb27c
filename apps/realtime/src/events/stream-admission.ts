import { EVENT_ID_PATTERN, EventStreamQuery, Identity } from '@dvd/contracts';
import { ApiError, ShutdownState, parseOrThrow } from '@dvd/platform';
import { EventLog } from '../stream/event-log';
import { Listener } from '../stream/stream-entry';
import { UnitDirectory } from '../units/unit-directory';

/** What realtime accepts: the contract's query without the ticket (the gateway exchanged it; it never travels on). */
const StreamQuery = EventStreamQuery.omit({ ticket: true });

/** Who may hold a stream (a service identity may not: 404, as for any route its role may not call). */
export const STREAM_ROLES: readonly Identity['role'][] = ['citizen', 'official', 'admin', 'platform-admin'];

export interface Admission {
  listener: Listener;
  /** The client's Last-Event-ID, or null for a fresh start. */
  lastEventId: number | null;
  /** The key under which the stream counts against its user's limit. */
  userKey: string;
  /** Token expiry, ms since the epoch. */
  expiresAt: number;
}

/** `Last-Event-ID` header, else `?lastEventId=`; digits only (bounded by the pattern). */
function lastEventIdOf(header: string | string[] | undefined, fromQuery: string | undefined): number | null {
  const raw = typeof header === 'string' && header !== '' ? header : fromQuery;
  if (raw === undefined) return null;
  if (!EVENT_ID_PATTERN.test(raw))
    throw ApiError.badRequest('Last-Event-ID must be an event id', [{ field: 'Last-Event-ID', message: 'must be digits' }]);
  return Number(raw);
}

/** The user a stream counts against: citizens and staff come from different IdPs, staff are per authority. */
function userKeyOf(who: Identity): string {
  return who.role === 'citizen' ? `citizen:${who.userId}` : `staff:${who.authorityId ?? ''}:${who.userId}`;
}

/**
 * Whether, and as whom, a verified caller may open `GET /api/v1/events` on this replica: the
 * same checks for a stream that comes over HTTP/1.1 (the controller) or over one of the
 * gateway's HTTP/2 connections (EventStreamServer). Throws the ApiError to answer with.
 */
export class StreamAdmission {
  constructor(
    private readonly log: EventLog,
    private readonly units: UnitDirectory,
    private readonly shutdown: ShutdownState,
  ) {}

  async admit(who: Identity, query: unknown, lastEventIdHeader: string | string[] | undefined): Promise<Admission> {
    const q = parseOrThrow(StreamQuery, query, 'The query parameters are invalid');
    const lastEventId = lastEventIdOf(lastEventIdHeader, q.lastEventId);
    if (who.role === 'citizen' && q.unitId !== undefined)
      throw ApiError.badRequest('Only staff filter by unit', [{ field: 'unitId', message: 'is for officials and admins only' }]);
    // the gateway signs the token's expiry: a stream ends with its token
    if (who.expiresAt === undefined || who.expiresAt * 1000 <= Date.now()) throw ApiError.unauthorized('The token has expired');
    if (!this.log.caughtUp || this.shutdown.draining) throw ApiError.unavailable('This replica does not take streams now; retry');
    if (q.unitId !== undefined) await this.units.assertUnit(who.authorityId ?? '', q.unitId, who.requestId);
    const listener: Listener =
      who.role === 'citizen'
        ? { role: 'citizen', userId: who.userId, authorityId: null, unitId: null }
        : { role: 'staff', userId: who.userId, authorityId: who.authorityId, unitId: q.unitId ?? null };
    return { listener, lastEventId, userKey: userKeyOf(who), expiresAt: who.expiresAt * 1000 };
  }
}
