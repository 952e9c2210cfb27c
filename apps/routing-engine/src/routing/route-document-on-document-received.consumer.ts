import { Injectable, Logger } from '@nestjs/common';
import { EventMap } from '@dvd/contracts';
import { Consumes, EventContext } from '@dvd/platform';
import { AuthorityEntity } from '../authorities/authority.entity';
import { evaluateRules } from '../rules/rule-evaluation';
import { RuleService } from '../rules/rule.service';

/**
 * document.received → evaluate the authority's rules, store the decision and publish
 * document.routed, all in one transaction. A document for an unknown authority, or for
 * one without any unit, is stored as UNROUTABLE (visible to platform admins), never dropped.
 */
@Injectable()
export class RouteDocumentOnDocumentReceived {
  private readonly logger = new Logger(RouteDocumentOnDocumentReceived.name);

  constructor(private readonly rules: RuleService) {}

  @Consumes('document.received')
  async route(doc: EventMap['document.received'], { manager, emit }: EventContext<'document.received'>): Promise<void> {
    const authority = await manager.getRepository(AuthorityEntity).findOneBy({ id: doc.authorityId });
    const decision = authority
      ? evaluateRules(await this.rules.rulesFor(authority, manager), doc, authority.defaultUnitId)
      : { unitId: null, ruleId: null };
    const routed = decision.unitId !== null;
    const inserted: unknown[] = await manager.query(
      `INSERT INTO routing_decisions (document_id, authority_id, outcome, rule_id, unit_id, reason)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (document_id) DO NOTHING RETURNING document_id`,
      [
        doc.documentId,
        doc.authorityId,
        routed ? 'ROUTED' : 'UNROUTABLE',
        decision.ruleId,
        decision.unitId,
        routed ? null : authority ? 'no-unit' : 'unknown-authority',
      ],
    );
    if (inserted.length === 0) return; // decided before (a replay under a new event id)
    if (decision.unitId !== null) {
      await emit('document.routed', {
        documentId: doc.documentId,
        authorityId: doc.authorityId,
        unitId: decision.unitId,
        ruleId: decision.ruleId,
      });
      this.logger.log(
        { documentId: doc.documentId, authorityId: doc.authorityId, unitId: decision.unitId, ruleId: decision.ruleId },
        'document routed',
      );
    } else {
      this.logger.warn(
        { documentId: doc.documentId, authorityId: doc.authorityId, reason: authority ? 'no-unit' : 'unknown-authority' },
        'document unroutable',
      );
    }
  }
}
