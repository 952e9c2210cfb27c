import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { RoutingRuleInput, RoutingRuleView } from '@dvd/contracts';
import { ApiError, Emitter, Messaging } from '@dvd/platform';
import { authorityNotFound } from '../authorities/access';
import { AuthorityEntity, UnitEntity } from '../authorities/authority.entity';
import { RuleForEvaluation, compareRules } from './rule-evaluation';
import { RoutingRuleEntity } from './routing-rule.entity';
import { RulesCache } from './rules-cache';
import { lockAuthority } from '../authorities/lock-authority';

/** A rule as the API answers it (the contract's `RoutingRule`). */
export function toRuleView(r: RoutingRuleEntity): RoutingRuleView {
  return {
    id: r.id,
    authorityId: r.authorityId,
    priority: r.priority,
    conditions: r.conditions,
    targetUnitId: r.targetUnitId,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

@Injectable()
export class RuleService {
  constructor(
    private readonly messaging: Messaging,
    private readonly cache: RulesCache,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  /** Rules of an authority in evaluation order. */
  async list(authorityId: string, manager: EntityManager = this.db.manager): Promise<RoutingRuleEntity[]> {
    if (!(await manager.getRepository(AuthorityEntity).existsBy({ id: authorityId }))) throw authorityNotFound();
    const rules = await manager.getRepository(RoutingRuleEntity).find({ where: { authorityId } });
    return rules.sort((a, b) => compareRules(forEvaluation(a), forEvaluation(b)));
  }

  create(authorityId: string, input: RoutingRuleInput) {
    return this.change(authorityId, async (manager) => {
      await this.assertUnit(manager, authorityId, input.targetUnitId);
      const id = randomUUID();
      await manager.query(
        `INSERT INTO routing_rules (id, authority_id, priority, conditions, target_unit_id) VALUES ($1, $2, $3, $4, $5)`,
        [id, authorityId, input.priority, JSON.stringify(input.conditions), input.targetUnitId],
      );
      return manager.getRepository(RoutingRuleEntity).findOneByOrFail({ id });
    });
  }

  replace(authorityId: string, ruleId: string, input: RoutingRuleInput) {
    return this.change(authorityId, async (manager) => {
      await this.assertUnit(manager, authorityId, input.targetUnitId);
      const [updated] = (await manager.query(
        `UPDATE routing_rules SET priority = $3, conditions = $4, target_unit_id = $5, updated_at = now()
          WHERE id = $1 AND authority_id = $2 RETURNING id`,
        [ruleId, authorityId, input.priority, JSON.stringify(input.conditions), input.targetUnitId],
      )) as [unknown[], number];
      if (updated.length === 0) throw ApiError.notFound('routing rule', 'routing-rule-not-found');
      return manager.getRepository(RoutingRuleEntity).findOneByOrFail({ id: ruleId });
    });
  }

  remove(authorityId: string, ruleId: string) {
    return this.change(authorityId, async (manager) => {
      const [deleted] = (await manager.query(`DELETE FROM routing_rules WHERE id = $1 AND authority_id = $2 RETURNING id`, [
        ruleId,
        authorityId,
      ])) as [unknown[], number];
      if (deleted.length === 0) throw ApiError.notFound('routing rule', 'routing-rule-not-found');
    });
  }

  /** Loads rules for routing from Postgres, or from the cache for the current version. */
  async rulesFor(authority: AuthorityEntity, manager: EntityManager): Promise<RuleForEvaluation[]> {
    return this.cache.get(authority.id, authority.rulesVersion, async () =>
      (await manager.getRepository(RoutingRuleEntity).find({ where: { authorityId: authority.id } })).map(forEvaluation),
    );
  }

  /**
   * Every rule change: lock the authority row, apply, bump rules_version, emit
   * routing-rules.changed, commit. The next document on any replica reads the new version.
   */
  private async change<T>(authorityId: string, apply: (manager: EntityManager, emit: Emitter) => Promise<T>): Promise<T> {
    let previous = 0;
    const result = await this.messaging.transaction(async (manager, emit) => {
      const authority = await lockAuthority(manager, authorityId);
      previous = authority.rulesVersion;
      const out = await apply(manager, emit);
      await manager.query(`UPDATE authorities SET rules_version = rules_version + 1, updated_at = now() WHERE id = $1`, [authorityId]);
      await emit('routing-rules.changed', { authorityId });
      return out;
    });
    await this.cache.forget(authorityId, previous);
    return result;
  }

  private async assertUnit(manager: EntityManager, authorityId: string, unitId: string) {
    if (!(await manager.getRepository(UnitEntity).existsBy({ authorityId, id: unitId }))) {
      throw ApiError.unprocessable('unknown-unit', 'targetUnitId names no unit of this authority', [
        { field: 'targetUnitId', message: 'is not a unit of this authority' },
      ]);
    }
  }
}

export function forEvaluation(r: RoutingRuleEntity): RuleForEvaluation {
  return {
    id: r.id,
    priority: r.priority,
    conditions: r.conditions,
    targetUnitId: r.targetUnitId,
    createdAt: r.createdAt.toISOString(),
  };
}
