import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Identity } from '@dvd/contracts';
import { AllowRoles, CurrentIdentity } from '@dvd/platform';
import { SessionHub } from '../sessions/session-hub';
import { Http1Output } from '../sessions/sse-output';
import { STREAM_ROLES, StreamAdmission } from './stream-admission';

/**
 * `GET /api/v1/events` over HTTP/1.1: the caller's event stream (Server-Sent Events, ADR 0021).
 * The gateway multiplexes its streams over HTTP/2 (EventStreamServer, the stream port); this
 * route serves a gateway of the previous release during a rolling update, and direct callers.
 */
@AllowRoles(...STREAM_ROLES)
@Controller('api/v1')
export class EventsController {
  constructor(
    private readonly hub: SessionHub,
    private readonly admission: StreamAdmission,
  ) {}

  @Get('events')
  async stream(@CurrentIdentity() who: Identity, @Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const a = await this.admission.admit(who, query, req.headers['last-event-id']);
    await this.hub.open({ listener: a.listener, out: new Http1Output(res), lastEventId: a.lastEventId, expiresAt: a.expiresAt }, a.userKey);
  }
}
