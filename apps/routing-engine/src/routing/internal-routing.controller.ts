import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { InternalRerouteRequestSchema, InternalRoutingResult } from '@dvd/contracts';
import { AllowRoles, AllowServices, ApiError, Messaging, isUuid, parseOrThrow } from '@dvd/platform';
import { Router } from './router';

/**
 * Re-routing for intake (role `service`): intake owns the document and decides whether it
 * may be re-routed (`POST /documents/{id}/reroute`); it sends what the rules look at and
 * this service decides again, in one transaction with the decision's document.routed.
 */
@AllowRoles('service')
@AllowServices('intake')
@Controller('internal/routing-decisions')
export class InternalRoutingController {
  constructor(
    private readonly router: Router,
    private readonly messaging: Messaging,
  ) {}

  @Post(':documentId')
  @HttpCode(200)
  reroute(@Param('documentId') documentId: string, @Body() body: unknown): Promise<InternalRoutingResult> {
    if (!isUuid(documentId)) throw ApiError.notFound('document', 'document-not-found');
    const input = parseOrThrow(InternalRerouteRequestSchema, body);
    return this.messaging.transaction((manager, emit) => this.router.reroute(manager, emit, { ...input, documentId }));
  }
}
