import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Identity, InternalRerouteRequest, InternalRoutingResultSchema, RoutingResultView } from '@dvd/contracts';
import { ApiError, Messaging, isUuid } from '@dvd/platform';
import { RoutingEngineClient } from '../authorities/authority-key-directory';
import { applyRouting, isReroutable } from './document-status';
import { DocumentEntity } from './document.entity';

const documentNotFound = () => ApiError.notFound('document', 'document-not-found');
const routingUnavailable = () => ApiError.unavailable('The routing engine is unavailable; nothing was changed, retry later');

/**
 * `POST /documents/{id}/reroute` (ADR 0020). Intake owns the document and its status, so it
 * decides whether re-routing makes sense (not once a thread was claimed, a decision made or
 * the document exported: 409) and sends routing-engine what the rules look at; routing-engine
 * decides again and publishes `document.routed` if the unit changed. The new unit is applied
 * here at once as well (the same idempotent update the event makes), so the next read shows it.
 */
@Injectable()
export class RerouteService {
  private readonly logger = new Logger(RerouteService.name);

  constructor(
    private readonly routingEngine: RoutingEngineClient,
    @InjectDataSource() private readonly db: DataSource,
    private readonly messaging: Messaging,
  ) {}

  async reroute(id: string, viewer: Identity): Promise<RoutingResultView> {
    if (!isUuid(id)) throw documentNotFound();
    const doc = await this.db.getRepository(DocumentEntity).findOneBy({ id });
    // admins re-route their own authority's documents; platform admins any (they see every unroutable one)
    if (!doc || (viewer.role !== 'platform-admin' && doc.authorityId !== viewer.authorityId)) throw documentNotFound();
    if (!isReroutable(doc.status)) {
      throw ApiError.conflict('document-not-reroutable', `A ${doc.status} document is not re-routed: someone has taken it up`);
    }
    const request: InternalRerouteRequest = {
      authorityId: doc.authorityId,
      documentType: doc.documentType,
      serviceKey: doc.serviceKey,
      regionKey: doc.regionKey,
      referenceNumber: doc.referenceNumber,
    };
    let raw: unknown;
    try {
      raw = await this.routingEngine.postJson(`/internal/routing-decisions/${doc.id}`, request, viewer.requestId);
    } catch (err) {
      this.logger.warn({ documentId: doc.id, errorName: (err as Error).name }, 'routing engine did not answer a re-routing');
      throw routingUnavailable();
    }
    const parsed = InternalRoutingResultSchema.safeParse(raw);
    if (!parsed.success || parsed.data.documentId !== doc.id) throw routingUnavailable();
    const r = parsed.data;
    if (r.outcome === 'ROUTED' && r.unitId !== null) {
      const routing = { documentId: doc.id, unitId: r.unitId, revision: r.revision, claimDeadline: r.claimDeadline, routedAt: new Date() };
      await this.messaging.transaction((manager, emit) => applyRouting(manager, routing, emit), { correlationId: doc.id });
    }
    this.logger.log(
      { documentId: doc.id, outcome: r.outcome, unitId: r.unitId, changed: r.changed, role: viewer.role },
      'document re-routed',
    );
    return { documentId: r.documentId, outcome: r.outcome, unitId: r.unitId, ruleId: r.ruleId, reason: r.reason, changed: r.changed };
  }
}
