import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import {
  DocumentHistoryPageView,
  DocumentHistoryQuery,
  DocumentListQuery,
  DocumentPageView,
  DocumentParams,
  DocumentReceiptView,
  DocumentRejectSchema,
  DocumentView,
  Identity,
  RoutingResultView,
} from '@dvd/contracts';
import {
  AllowRoles,
  ApiError,
  CurrentIdentity,
  ObjectStorage,
  lingerAfterEarlyResponse,
  parseOrThrow,
  parsePathParams,
} from '@dvd/platform';
import { ForwardService } from '../payloads/forward.service';
import { UploadService } from '../payloads/upload.service';
import { DocumentDecisions } from './document-decisions';
import { historyPage } from './document-history';
import { DocumentService } from './document.service';
import { RerouteService } from './reroute.service';
import { documentETag, receiptClaims, toDocumentView } from './document.view';

const documentNotFound = () => ApiError.notFound('document', 'document-not-found');
/** The document id of the path (the contract's `DocumentParams`); anything else names no document. */
const documentId = (params: unknown): string => parsePathParams(DocumentParams, params, documentNotFound).id;

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  return !!ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim() === etag || t.trim() === '*');
}

/** Answers the upload's own response (and its replays), or lets the problem through after discarding the rest of the body. */
async function answerStreamed(req: Request, res: Response, work: () => Promise<{ status: number; location?: string; body: unknown }>) {
  try {
    const result = await work();
    res.status(result.status);
    if (result.location) res.setHeader('Location', result.location);
    res.json(result.body);
  } catch (err) {
    // refused before the body was read to its end: answer now, discard the rest
    lingerAfterEarlyResponse(req, res);
    throw err;
  }
}

@AllowRoles('citizen', 'official', 'admin', 'platform-admin')
@Controller('api/v1/documents')
export class DocumentController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly documents: DocumentService,
    private readonly uploads: UploadService,
    private readonly forwards: ForwardService,
    private readonly decisions: DocumentDecisions,
    private readonly storage: ObjectStorage,
    private readonly reroutes: RerouteService,
  ) {}

  @Post()
  @AllowRoles('citizen')
  async create(@CurrentIdentity() citizen: Identity, @Req() req: Request, @Res() res: Response, @Headers('idempotency-key') key?: string) {
    await answerStreamed(req, res, () => this.uploads.upload(req, citizen, key));
  }

  @Get()
  async list(@CurrentIdentity() viewer: Identity, @Query() query: unknown): Promise<DocumentPageView> {
    const q = parseOrThrow(DocumentListQuery, query, 'The query parameters are invalid');
    const page = await this.documents.list(viewer, q);
    return { items: page.items.map((d) => toDocumentView(d, viewer)), nextCursor: page.nextCursor };
  }

  @Get(':id')
  async get(
    @CurrentIdentity() viewer: Identity,
    @Param() params: unknown,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<DocumentView | undefined> {
    const doc = await this.documents.getVisible(documentId(params), viewer);
    const etag = documentETag(doc, viewer);
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', 'private, no-cache');
    if (matches(ifNoneMatch, etag)) {
      res.status(304);
      return undefined;
    }
    return toDocumentView(doc, viewer);
  }

  /** Routes the document again by its authority's current rules (ADR 0020); idempotent, 409 once it is taken up. */
  @Post(':id/reroute')
  @HttpCode(200)
  @AllowRoles('admin', 'platform-admin')
  reroute(@CurrentIdentity() viewer: Identity, @Param() params: unknown): Promise<RoutingResultView> {
    return this.reroutes.reroute(documentId(params), viewer);
  }

  /** The encrypted container exactly as stored, streamed. Its sha256 is a strong ETag: the payload never changes. */
  @Get(':id/payload')
  async payload(
    @CurrentIdentity() viewer: Identity,
    @Param() params: unknown,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    const doc = await this.documents.getVisible(documentId(params), viewer);
    const etag = `"sha256-${doc.payloadSha256}"`;
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', 'private, no-cache');
    if (matches(ifNoneMatch, etag)) {
      res.status(304).end();
      return;
    }
    let object;
    try {
      object = await this.storage.download(doc.payloadKey);
    } catch {
      throw ApiError.unavailable('The payload store is unavailable');
    }
    res.status(200);
    res.setHeader('Content-Type', doc.payloadFormat === 'json' ? 'application/jose+json' : 'application/jose');
    res.setHeader('Content-Length', String(object.contentLength));
    res.setHeader('Content-Disposition', `attachment; filename="${doc.id}.jwe"`);
    req.on('close', () => object.body.destroy());
    object.body.on('error', () => res.destroy());
    object.body.pipe(res);
  }

  /** The signed receipt, exactly as the upload answered it. */
  @Get(':id/receipt')
  async receipt(@CurrentIdentity() viewer: Identity, @Param() params: unknown): Promise<DocumentReceiptView> {
    const doc = await this.documents.getVisible(documentId(params), viewer);
    if (!doc.receipt) throw ApiError.notFound('receipt', 'not-found'); // stored before receipts existed
    return { documentId: doc.id, receipt: doc.receipt, claims: receiptClaims(doc.receipt) };
  }

  @Get(':id/history')
  async history(@CurrentIdentity() viewer: Identity, @Param() params: unknown, @Query() query: unknown): Promise<DocumentHistoryPageView> {
    const id = documentId(params);
    const q = parseOrThrow(DocumentHistoryQuery, query, 'The query parameters are invalid');
    const doc = await this.documents.getVisible(id, viewer);
    return historyPage(this.db.manager, doc.id, q);
  }

  @Post(':id/accept')
  @HttpCode(200)
  @AllowRoles('official', 'admin', 'platform-admin')
  async accept(@CurrentIdentity() who: Identity, @Param() params: unknown): Promise<DocumentView> {
    return toDocumentView(await this.decisions.accept(documentId(params), who), who);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @AllowRoles('official', 'admin', 'platform-admin')
  async reject(@CurrentIdentity() who: Identity, @Param() params: unknown, @Body() body: unknown): Promise<DocumentView> {
    const id = documentId(params);
    const input = parseOrThrow(DocumentRejectSchema, body, 'The request body is invalid');
    return toDocumentView(await this.decisions.reject(id, who, input), who);
  }

  @Post(':id/forward')
  @AllowRoles('official', 'admin', 'platform-admin')
  async forward(
    @CurrentIdentity() who: Identity,
    @Param() params: unknown,
    @Req() req: Request,
    @Res() res: Response,
    @Headers('idempotency-key') key?: string,
  ) {
    await answerStreamed(req, res, () => this.forwards.forward(req, who, documentId(params), key));
  }
}
