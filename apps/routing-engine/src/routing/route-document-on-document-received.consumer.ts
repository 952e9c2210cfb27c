import { Injectable } from '@nestjs/common';
import { EventMap } from '@dvd/contracts';
import { Consumes, EventContext } from '@dvd/platform';
import { Router } from './router';

/**
 * document.received → evaluate the authority's rules, store the decision and publish
 * document.routed, all in one transaction. A document for an unknown authority, or for
 * one without any unit, is stored as UNROUTABLE (visible to platform admins, and routed
 * again when its authority gains a unit or a rule), never dropped.
 */
@Injectable()
export class RouteDocumentOnDocumentReceived {
  constructor(private readonly router: Router) {}

  @Consumes('document.received')
  async route(doc: EventMap['document.received'], { manager, emit }: EventContext<'document.received'>): Promise<void> {
    await this.router.routeReceived(manager, emit, doc);
  }
}
