import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { Identity } from '@dvd/contracts';
import { AllowRoles, CurrentIdentity, pageQuery, parseOrThrow } from '@dvd/platform';
import { MessageService } from '../messages/message.service';
import { confirmSlotSchema, createThreadSchema, inboxQuerySchema } from './thread.dto';
import { ThreadService } from './thread.service';
import { toThreadView } from './thread.view';

const messagesQuery = z.object({ ...pageQuery, after: z.string().max(100).optional() });

@AllowRoles('citizen', 'official', 'admin', 'platform-admin')
@Controller('api/v1')
export class ThreadController {
  constructor(
    private readonly threads: ThreadService,
    private readonly messages: MessageService,
  ) {}

  @Post('documents/:documentId/threads')
  async create(
    @CurrentIdentity() who: Identity,
    @Param('documentId') documentId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const thread = await this.threads.create(who, documentId, parseOrThrow(createThreadSchema, body));
    res.status(201).setHeader('Location', `/api/v1/threads/${thread.id}`);
    return toThreadView(thread, who);
  }

  @Get('threads')
  async inbox(@CurrentIdentity() who: Identity, @Query() query: unknown) {
    const page = await this.threads.inbox(who, parseOrThrow(inboxQuerySchema, query, 'The query parameters are invalid'));
    return { items: page.items.map((t) => toThreadView(t, who)), nextCursor: page.nextCursor };
  }

  @Get('threads/:id')
  async get(@CurrentIdentity() who: Identity, @Param('id') id: string) {
    return toThreadView(await this.threads.getVisible(who, id), who);
  }

  @Post('threads/:id/claim')
  @HttpCode(200)
  async claim(@CurrentIdentity() who: Identity, @Param('id') id: string) {
    return toThreadView(await this.threads.claim(who, id), who);
  }

  @Post('threads/:id/release')
  @HttpCode(200)
  async release(@CurrentIdentity() who: Identity, @Param('id') id: string) {
    return toThreadView(await this.threads.release(who, id), who);
  }

  @Post('threads/:id/close')
  @HttpCode(200)
  async close(@CurrentIdentity() who: Identity, @Param('id') id: string) {
    return toThreadView(await this.threads.close(who, id), who);
  }

  @Post('threads/:id/appointment/confirm')
  @HttpCode(200)
  async confirm(@CurrentIdentity() who: Identity, @Param('id') id: string, @Body() body: unknown) {
    return toThreadView(await this.threads.confirmSlot(who, id, parseOrThrow(confirmSlotSchema, body).start), who);
  }

  @Post('threads/:id/messages')
  async post(@CurrentIdentity() who: Identity, @Param('id') id: string, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const input = parseOrThrow(z.object({ contentBlob: z.unknown() }).strict(), body ?? {});
    const message = await this.messages.post(who, id, input.contentBlob);
    res.status(201).setHeader('Location', `/api/v1/threads/${id}/messages?after=${message.id}`);
    return message;
  }

  @Get('threads/:id/messages')
  async list(@CurrentIdentity() who: Identity, @Param('id') id: string, @Query() query: unknown) {
    return this.messages.list(who, id, parseOrThrow(messagesQuery, query, 'The query parameters are invalid'));
  }
}
