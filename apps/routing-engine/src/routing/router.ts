import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DEFAULT_CLAIM_DEADLINE, InternalRoutingResult } from '@dvd/contracts';
import { Emitter } from '@dvd/platform';
import { AuthorityEntity } from '../authorities/authority.entity';
import { DocumentFacts, RuleForEvaluation, evaluateRules } from '../rules/rule-evaluation';
import { RuleService } from '../rules/rule.service';
import { RoutingOutcomeKind, UnroutableReason } from './routing-decision.entity';
import { RoutingMetrics } from './routing-metrics';

/** A document as the router sees it: its ids and what the rules look at. */
export interface RoutingInput extends DocumentFacts {
  documentId: string;
  authorityId: string;
}

/** A decision as the router answers it (the internal routing result). */
export type Decision = InternalRoutingResult;

interface Evaluated {
  unitId: string | null;
  ruleId: string | null;
  reason: UnroutableReason | null;
}

interface DecisionRow {
  document_id: string;
  authority_id: string;
  outcome: RoutingOutcomeKind;
  unit_id: string | null;
  rule_id: string | null;
  reason: UnroutableReason | null;
  revision: number;
  facts: DocumentFacts | null;
}

const DECISION_COLUMNS = `document_id, authority_id, outcome, unit_id, rule_id, reason, revision, facts`;

/** The authority's rules (and default unit) applied to a document; no authority: unknown-authority. */
function evaluateFor(authority: AuthorityEntity | null, rules: readonly RuleForEvaluation[], facts: DocumentFacts): Evaluated {
  if (!authority) return { unitId: null, ruleId: null, reason: 'unknown-authority' };
  const outcome = evaluateRules(rules, facts, authority.defaultUnitId);
  return outcome.unitId === null ? { unitId: null, ruleId: null, reason: 'no-unit' } : { ...outcome, reason: null };
}

/** What the rules look at, as kept for an unroutable document (and nothing else of the document). */
const factsOf = (d: DocumentFacts): DocumentFacts => ({
  documentType: d.documentType,
  serviceKey: d.serviceKey,
  regionKey: d.regionKey,
  referenceNumber: d.referenceNumber,
});

/**
 * Every routing decision, first or again, in the caller's transaction; `document.routed`
 * goes into the outbox of the same transaction, so a decision and its event commit together.
 *
 * - A document's decision is one row (`routing_decisions`, keyed by document id): a first
 *   decision is an insert that does nothing if a decision exists (a redelivered or replayed
 *   `document.received`), a new decision an update of the row locked `FOR UPDATE` whose
 *   `revision` rises. Whoever changes the row publishes, so each change is published once.
 * - The authority's row is share-locked (`FOR SHARE`) while deciding. Every change of units,
 *   default unit or rules takes it exclusively (`lockAuthority`), so a decision never mixes
 *   states, and a document decided UNROUTABLE while an admin adds the first unit is either
 *   decided after the unit is committed or committed before the unit: then the re-routing the
 *   unit's `authority.changed` triggers sees it. No unroutable document is left behind.
 * - A routed document is never made unroutable again (an authority keeps its units).
 * - While a document is UNROUTABLE its facts are kept (to route it again); once routed they
 *   are cleared.
 */
@Injectable()
export class Router {
  private readonly logger = new Logger(Router.name);

  constructor(
    private readonly rules: RuleService,
    private readonly metrics: RoutingMetrics,
  ) {}

  /** The first decision for a received document; null if it was decided before (nothing is published then). */
  async routeReceived(manager: EntityManager, emit: Emitter, doc: RoutingInput): Promise<Decision | null> {
    const authority = await this.shareLock(manager, doc.authorityId);
    const evaluated = await this.evaluate(manager, authority, doc);
    const inserted = await this.insert(manager, doc, evaluated);
    if (!inserted) return null;
    if (inserted.outcome === 'UNROUTABLE') this.metrics.unroutableIn(manager);
    return this.published(manager, emit, inserted, authority);
  }

  /** Decides again for one document (by hand): the same unit changes nothing, another one is applied and published. */
  async reroute(manager: EntityManager, emit: Emitter, doc: RoutingInput): Promise<Decision> {
    const authority = await this.shareLock(manager, doc.authorityId);
    const evaluated = await this.evaluate(manager, authority, doc);
    let row = await this.lockDecision(manager, doc.documentId);
    if (!row) {
      const inserted = await this.insert(manager, doc, evaluated);
      if (inserted) return this.published(manager, emit, inserted, authority);
      row = await this.lockDecision(manager, doc.documentId); // document.received decided it meanwhile
      if (!row) throw new Error('routing decision vanished');
    }
    return this.apply(manager, emit, row, evaluated, authority, doc);
  }

  /**
   * Routes the authority's UNROUTABLE documents again (after a unit, default unit or rule
   * change); answers how many were routed. Rows are locked `FOR UPDATE`: a concurrent run
   * waits, then finds them routed and leaves them (each document is routed once).
   */
  async rerouteUnroutable(manager: EntityManager, emit: Emitter, authorityId: string): Promise<number> {
    const authority = await this.shareLock(manager, authorityId);
    if (!authority) return 0;
    // served by routing_decisions_unroutable_authority_idx
    const rows: DecisionRow[] = await manager.query(
      `SELECT ${DECISION_COLUMNS} FROM routing_decisions WHERE authority_id = $1 AND outcome = 'UNROUTABLE'
        ORDER BY decided_at, document_id FOR UPDATE`,
      [authorityId],
    );
    const rules = rows.length > 0 ? await this.rules.rulesFor(authority, manager) : [];
    let routed = 0;
    let withoutFacts = 0;
    for (const row of rows) {
      if (!row.facts) {
        withoutFacts++; // decided before facts were kept: routed by hand (intake sends the facts)
        continue;
      }
      const evaluated = evaluateFor(authority, rules, row.facts);
      const decision = await this.apply(manager, emit, row, evaluated, authority, row.facts);
      if (decision.outcome === 'ROUTED') routed++;
    }
    if (rows.length > 0)
      this.logger.log({ authorityId, unroutable: rows.length, routed, withoutFacts }, 'unroutable documents routed again');
    return routed;
  }

  private shareLock(manager: EntityManager, authorityId: string): Promise<AuthorityEntity | null> {
    return manager.getRepository(AuthorityEntity).findOne({ where: { id: authorityId }, lock: { mode: 'pessimistic_read' } });
  }

  private async lockDecision(manager: EntityManager, documentId: string): Promise<DecisionRow | undefined> {
    const rows: DecisionRow[] = await manager.query(`SELECT ${DECISION_COLUMNS} FROM routing_decisions WHERE document_id = $1 FOR UPDATE`, [
      documentId,
    ]);
    return rows[0];
  }

  private async evaluate(manager: EntityManager, authority: AuthorityEntity | null, facts: DocumentFacts): Promise<Evaluated> {
    return evaluateFor(authority, authority ? await this.rules.rulesFor(authority, manager) : [], facts);
  }

  private async insert(manager: EntityManager, doc: RoutingInput, e: Evaluated): Promise<DecisionRow | undefined> {
    const rows: DecisionRow[] = await manager.query(
      `INSERT INTO routing_decisions (document_id, authority_id, outcome, rule_id, unit_id, reason, facts)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (document_id) DO NOTHING RETURNING ${DECISION_COLUMNS}`,
      [
        doc.documentId,
        doc.authorityId,
        e.unitId === null ? 'UNROUTABLE' : 'ROUTED',
        e.ruleId,
        e.unitId,
        e.reason,
        e.unitId === null ? JSON.stringify(factsOf(doc)) : null,
      ],
    );
    return rows[0];
  }

  /** A new evaluation for a decided document: applied (and published) only if it names another unit. */
  private async apply(
    manager: EntityManager,
    emit: Emitter,
    row: DecisionRow,
    e: Evaluated,
    authority: AuthorityEntity | null,
    facts: DocumentFacts,
  ): Promise<Decision> {
    if (e.unitId === null) {
      // still no unit: an unroutable document gets the current reason (and facts, if it had none); a routed one stays routed
      if (row.outcome === 'UNROUTABLE' && (row.reason !== e.reason || row.facts === null)) {
        await manager.query(`UPDATE routing_decisions SET reason = $2, facts = $3 WHERE document_id = $1`, [
          row.document_id,
          e.reason,
          JSON.stringify(factsOf(facts)),
        ]);
        row = { ...row, reason: e.reason };
      }
      return this.decision(row, authority, false);
    }
    if (row.outcome === 'ROUTED' && row.unit_id === e.unitId) return this.decision(row, authority, false);
    const [updated]: DecisionRow[] = (
      (await manager.query(
        `UPDATE routing_decisions SET outcome = 'ROUTED', unit_id = $2, rule_id = $3, reason = NULL, facts = NULL,
                revision = revision + 1, decided_at = now()
          WHERE document_id = $1 RETURNING ${DECISION_COLUMNS}`,
        [row.document_id, e.unitId, e.ruleId],
      )) as [DecisionRow[], number]
    )[0];
    return this.published(manager, emit, updated, authority);
  }

  /** Publishes document.routed for a decision this transaction made (if it routes), and answers it. */
  private async published(manager: EntityManager, emit: Emitter, row: DecisionRow, authority: AuthorityEntity | null): Promise<Decision> {
    const decision = this.decision(row, authority, row.outcome === 'ROUTED');
    if (decision.outcome === 'ROUTED' && decision.unitId !== null) {
      this.metrics.routedIn(manager);
      await emit('document.routed', {
        documentId: decision.documentId,
        authorityId: decision.authorityId,
        unitId: decision.unitId,
        ruleId: decision.ruleId,
        revision: decision.revision,
        claimDeadline: decision.claimDeadline,
      });
      this.logger.log(
        {
          documentId: decision.documentId,
          authorityId: decision.authorityId,
          unitId: decision.unitId,
          ruleId: decision.ruleId,
          revision: decision.revision,
        },
        'document routed',
      );
    } else {
      this.logger.warn(
        { documentId: decision.documentId, authorityId: decision.authorityId, reason: decision.reason },
        'document unroutable',
      );
    }
    return decision;
  }

  private decision(row: DecisionRow, authority: AuthorityEntity | null, changed: boolean): Decision {
    return {
      documentId: row.document_id,
      authorityId: row.authority_id,
      outcome: row.outcome,
      unitId: row.unit_id,
      ruleId: row.rule_id,
      reason: row.reason,
      changed,
      revision: row.revision,
      claimDeadline: authority?.claimDeadline ?? DEFAULT_CLAIM_DEADLINE,
    };
  }
}
