import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Type } from '@nestjs/common';
import { DeadLetterListQuery, DeadLetterPageView, DeadLetterReplayedView, DeadLetterView } from '@dvd/contracts';
import { AllowRoles } from '../auth-context/identity.guard';
import { ApiError } from '../errors/problem';
import { parseOrThrow } from '../errors/zod';
import { decodeCursor, isUuid, keysetPage } from '../http/paging';
import { Messaging } from './messaging';

/**
 * `platform-admin` endpoints over one service's dead letters, below
 * `/api/v1/admin/dead-letters/<service>` so that the gateway knows which service owns them.
 * Ids, types, reason codes and counts only: the stored envelope is never returned.
 */
export function deadLetterController(service: string): Type<unknown> {
  @AllowRoles('platform-admin')
  @Controller(`api/v1/admin/dead-letters/${service}`)
  class DeadLetterController {
    constructor(@Inject(Messaging) private readonly messaging: Messaging) {}

    @Get()
    async list(@Query() raw: unknown): Promise<DeadLetterPageView> {
      const q = parseOrThrow(DeadLetterListQuery, raw, 'The query parameters are invalid');
      const after = decodeCursor(q.cursor);
      if (after && !isUuid(after.id))
        throw ApiError.badRequest('The cursor is not valid', [{ field: 'cursor', message: 'is not a cursor this API issued' }]);
      const rows = await this.messaging.deadLetters.list({
        limit: q.limit + 1,
        before: after ? { lastFailedAt: after.at, eventId: after.id } : undefined,
      });
      return keysetPage(rows, q.limit, (r) => ({ at: r.lastFailedAt, id: r.eventId }));
    }

    @Get(':id')
    async get(@Param('id') id: string): Promise<DeadLetterView> {
      const found = await this.messaging.deadLetters.get(id);
      if (!found) throw ApiError.notFound('dead letter');
      return found;
    }

    /** Re-publishes the stored event (same id) to this service's queue through the outbox. */
    @Post(':id/replay')
    @HttpCode(200)
    async replay(@Param('id') id: string): Promise<DeadLetterReplayedView> {
      const outcome = await this.messaging.replayDeadLetter(id);
      if (outcome === 'missing') throw ApiError.notFound('dead letter');
      if (outcome === 'not-replayable') throw ApiError.conflict('not-replayable', 'The message was malformed; its body was not kept');
      return { eventId: id, status: 'REPLAYED' };
    }

    @Delete(':id')
    @HttpCode(204)
    async remove(@Param('id') id: string): Promise<void> {
      if (!(await this.messaging.deadLetters.delete(id))) throw ApiError.notFound('dead letter');
    }
  }
  return DeadLetterController;
}
