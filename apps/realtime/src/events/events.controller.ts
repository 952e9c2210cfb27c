import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { EVENT_ID_PATTERN, EventStreamQuery, Identity } from '@dvd/contracts';
import { AllowRoles, ApiError, CurrentIdentity, ShutdownState, parseOrThrow } from '@dvd/platform';
import { SessionHub } from '../sessions/session-hub';
import { EventLog } from '../stream/event-log';
import { Listener } from '../stream/stream-entry';
import { UnitDirectory } from '../units/unit-directory';

/** What realtime accepts: the contract's query without the ticket (the gateway exchanged it; it never travels on). */
const StreamQuery = EventStreamQuery.omit({ ticket: true });

/** `Last-Event-ID` header, else `?lastEventId=`; digits only (bounded by the pattern). */
function lastEventIdOf(req: Request, fromQuery: string | undefined): number | null {
  const header = req.headers['last-event-id'];
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

/** `GET /api/v1/events`: the caller's event stream (Server-Sent Events, ADR 0021). */
@AllowRoles('citizen', 'official', 'admin', 'platform-admin')
@Controller('api/v1')
export class EventsController {
  constructor(
    private readonly hub: SessionHub,
    private readonly log: EventLog,
    private readonly units: UnitDirectory,
    private readonly shutdown: ShutdownState,
  ) {}

  @Get('events')
  async stream(@CurrentIdentity() who: Identity, @Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const q = parseOrThrow(StreamQuery, query, 'The query parameters are invalid');
    const lastEventId = lastEventIdOf(req, q.lastEventId);
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
    await this.hub.open({ listener, res, lastEventId, expiresAt: who.expiresAt * 1000 }, userKeyOf(who));
  }
}
