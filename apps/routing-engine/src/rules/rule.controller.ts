import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Identity, PageQuery, RoutingRuleInputSchema, RoutingRulePageView, RoutingRuleView, RuleParams } from '@dvd/contracts';
import { ApiError, CurrentIdentity, isUuid, parseOrThrow, parsePathParams } from '@dvd/platform';
import { assertAdminOf, assertMemberOf, authorityId, authorityNotFound } from '../authorities/access';
import { RuleService, toRuleView } from './rule.service';

/** The path's authority id and (opaque) rule id, by the contract's `RuleParams`. */
const ruleParams = (params: unknown) => parsePathParams(RuleParams, params, authorityNotFound);

/** Rule ids are uuids here: anything else names no rule. */
function assertRuleId(ruleId: string): void {
  if (!isUuid(ruleId)) throw ApiError.notFound('routing rule', 'routing-rule-not-found');
}

@Controller('api/v1/authorities/:id/routing-rules')
export class RuleController {
  constructor(private readonly rules: RuleService) {}

  /**
   * In evaluation order (priority, then creation). An authority has few rules: all of them
   * come on one page; `limit` and `cursor` are checked like on every list.
   */
  @Get()
  async list(@CurrentIdentity() viewer: Identity, @Param() params: unknown, @Query() query: unknown): Promise<RoutingRulePageView> {
    const id = authorityId(params);
    assertMemberOf(viewer, id);
    parseOrThrow(PageQuery, query, 'The query parameters are invalid');
    return { items: (await this.rules.list(id)).map(toRuleView), nextCursor: null };
  }

  @Post()
  async create(
    @CurrentIdentity() viewer: Identity,
    @Param() params: unknown,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RoutingRuleView> {
    const id = authorityId(params);
    assertAdminOf(viewer, id);
    const rule = await this.rules.create(id, parseOrThrow(RoutingRuleInputSchema, body));
    res.status(201).setHeader('Location', `/api/v1/authorities/${id}/routing-rules/${rule.id}`);
    return toRuleView(rule);
  }

  @Put(':ruleId')
  async replace(@CurrentIdentity() viewer: Identity, @Param() params: unknown, @Body() body: unknown): Promise<RoutingRuleView> {
    const { id, ruleId } = ruleParams(params);
    assertAdminOf(viewer, id);
    assertRuleId(ruleId);
    return toRuleView(await this.rules.replace(id, ruleId, parseOrThrow(RoutingRuleInputSchema, body)));
  }

  @Delete(':ruleId')
  @HttpCode(204)
  async remove(@CurrentIdentity() viewer: Identity, @Param() params: unknown) {
    const { id, ruleId } = ruleParams(params);
    assertAdminOf(viewer, id);
    assertRuleId(ruleId);
    await this.rules.remove(id, ruleId);
  }
}
