import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import {
  DocumentParams,
  Identity,
  MessageCreateSchema,
  MessageListQuery,
  MessagePageView,
  MessageView,
  ThreadCreateSchema,
  ThreadListQuery,
  ThreadPageView,
  ThreadParams,
  ThreadView,
} from '@dvd/contracts';
import { AllowRoles, ApiError, CurrentIdentity, parseOrThrow, parsePathParams } from '@dvd/platform';
import { MessageService } from '../messages/message.service';
import { threadNotFound } from './thread-access';
import { ThreadService } from './thread.service';
import { toThreadView } from './thread.view';

/** The thread id of the path (the contract's `ThreadParams`); anything else names no thread. */
const threadId = (params: unknown): string => parsePathParams(ThreadParams, params, threadNotFound).id;

/** The document id of the path (the contract's `DocumentParams`); anything else names no document. */
const documentId = (params: unknown): string =>
  parsePathParams(DocumentParams, params, () => ApiError.notFound('document', 'document-not-found')).id;

/** Request bodies and queries are the contract's (libs/contracts/src/http/threads.ts, messages.ts). */
@AllowRoles('citizen', 'official', 'admin', 'platform-admin')
@Controller('api/v1')
export class ThreadController {
  constructor(
    private readonly threads: ThreadService,
    private readonly messages: MessageService,
  ) {}

  @Post('documents/:id/threads')
  async create(
    @CurrentIdentity() who: Identity,
    @Param() params: unknown,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ThreadView> {
    const thread = await this.threads.create(who, documentId(params), parseOrThrow(ThreadCreateSchema, body));
    res.status(201).setHeader('Location', `/api/v1/threads/${thread.id}`);
    return toThreadView(thread, who);
  }

  @Get('threads')
  async inbox(@CurrentIdentity() who: Identity, @Query() query: unknown): Promise<ThreadPageView> {
    const page = await this.threads.inbox(who, parseOrThrow(ThreadListQuery, query, 'The query parameters are invalid'));
    return { items: page.items.map((t) => toThreadView(t, who)), nextCursor: page.nextCursor };
  }

  @Get('threads/:id')
  async get(@CurrentIdentity() who: Identity, @Param() params: unknown): Promise<ThreadView> {
    return toThreadView(await this.threads.getVisible(who, threadId(params)), who);
  }

  @Post('threads/:id/claim')
  @HttpCode(200)
  async claim(@CurrentIdentity() who: Identity, @Param() params: unknown): Promise<ThreadView> {
    return toThreadView(await this.threads.claim(who, threadId(params)), who);
  }

  @Post('threads/:id/release')
  @HttpCode(200)
  async release(@CurrentIdentity() who: Identity, @Param() params: unknown): Promise<ThreadView> {
    return toThreadView(await this.threads.release(who, threadId(params)), who);
  }

  @Post('threads/:id/close')
  @HttpCode(200)
  async close(@CurrentIdentity() who: Identity, @Param() params: unknown): Promise<ThreadView> {
    return toThreadView(await this.threads.close(who, threadId(params)), who);
  }

  @Post('threads/:id/messages')
  async post(
    @CurrentIdentity() who: Identity,
    @Param() params: unknown,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageView> {
    const id = threadId(params);
    const input = parseOrThrow(MessageCreateSchema, body ?? {});
    const message = await this.messages.post(who, id, input.contentBlob);
    res.status(201).setHeader('Location', `/api/v1/threads/${id}/messages?after=${message.id}`);
    return message;
  }

  @Get('threads/:id/messages')
  async list(@CurrentIdentity() who: Identity, @Param() params: unknown, @Query() query: unknown): Promise<MessagePageView> {
    const id = threadId(params);
    return this.messages.list(who, id, parseOrThrow(MessageListQuery, query, 'The query parameters are invalid'));
  }
}
