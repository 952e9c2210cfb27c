import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Identity } from '@dvd/contracts';
import { ApiError, CurrentIdentity, isUuid, parseOrThrow } from '@dvd/platform';
import { assertAdminOf, assertMemberOf } from '../authorities/access';
import { routingRuleSchema } from './routing-rule.dto';
import { RuleService, toRuleView } from './rule.service';

@Controller('api/v1/authorities/:id/routing-rules')
export class RuleController {
  constructor(private readonly rules: RuleService) {}

  /** In evaluation order (priority, then creation). Not paged: an authority has few rules. */
  @Get()
  async list(@CurrentIdentity() viewer: Identity, @Param('id') id: string) {
    assertMemberOf(viewer, id);
    return { items: (await this.rules.list(id)).map(toRuleView), nextCursor: null };
  }

  @Post()
  async create(
    @CurrentIdentity() viewer: Identity,
    @Param('id') id: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    assertAdminOf(viewer, id);
    const rule = await this.rules.create(id, parseOrThrow(routingRuleSchema, body));
    res.status(201).setHeader('Location', `/api/v1/authorities/${id}/routing-rules/${rule.id}`);
    return toRuleView(rule);
  }

  @Put(':ruleId')
  async replace(@CurrentIdentity() viewer: Identity, @Param('id') id: string, @Param('ruleId') ruleId: string, @Body() body: unknown) {
    assertAdminOf(viewer, id);
    assertUuid(ruleId);
    return toRuleView(await this.rules.replace(id, ruleId, parseOrThrow(routingRuleSchema, body)));
  }

  @Delete(':ruleId')
  @HttpCode(204)
  async remove(@CurrentIdentity() viewer: Identity, @Param('id') id: string, @Param('ruleId') ruleId: string) {
    assertAdminOf(viewer, id);
    assertUuid(ruleId);
    await this.rules.remove(id, ruleId);
  }
}

function assertUuid(id: string) {
  if (!isUuid(id)) throw ApiError.notFound('routing rule', 'routing-rule-not-found');
}
