import { Injectable } from '@nestjs/common';
import { EventMap } from '@dvd/contracts';
import { Consumes, EventContext } from '@dvd/platform';
import { Router } from './router';

/**
 * An authority gained a unit or a default unit (authority.changed) or its rules changed
 * (routing-rules.changed), both published by this service → its UNROUTABLE documents are
 * routed again, in the event's transaction: each one that now finds a unit is routed once,
 * with its document.routed in the outbox (ADR 0020). Any other change of the authority
 * (keys, retention) finds nothing to do after one indexed query.
 */
@Injectable()
export class RerouteUnroutableOnRoutingChange {
  constructor(private readonly router: Router) {}

  @Consumes('authority.changed')
  async onAuthorityChanged(data: EventMap['authority.changed'], { manager, emit }: EventContext<'authority.changed'>): Promise<void> {
    if (data.deleted) return;
    await this.router.rerouteUnroutable(manager, emit, data.authorityId);
  }

  @Consumes('routing-rules.changed')
  async onRulesChanged(data: EventMap['routing-rules.changed'], { manager, emit }: EventContext<'routing-rules.changed'>): Promise<void> {
    await this.router.rerouteUnroutable(manager, emit, data.authorityId);
  }
}
