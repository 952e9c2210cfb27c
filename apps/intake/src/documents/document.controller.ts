import { Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DocumentListQuery, DocumentPageView, DocumentParams, DocumentView, Identity, RoutingResultView } from '@dvd/contracts';
import {
  AllowRoles,
  ApiError,
  CurrentIdentity,
  ObjectStorage,
  lingerAfterEarlyResponse,
  parseOrThrow,
  parsePathParams,
} from '@dvd/platform';
import { UploadService } from '../payloads/upload.service';
import { DocumentService } from './document.service';
import { RerouteService } from './reroute.service';
import { documentETag, toDocumentView } from './document.view';

const documentNotFound = () => ApiError.notFound('document', 'document-not-found');
/** The document id of the path (the contract's `DocumentParams`); anything else names no document. */
const documentId = (params: unknown): string => parsePathParams(DocumentParams, params, documentNotFound).id;

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  return !!ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim() === etag || t.trim() === '*');
}

@AllowRoles('citizen', 'official', 'admin', 'platform-admin')
@Controller('api/v1/documents')
export class DocumentController {
  constructor(
    private readonly documents: DocumentService,
    private readonly uploads: UploadService,
    private readonly storage: ObjectStorage,
    private readonly reroutes: RerouteService,
  ) {}

  @Post()
  @AllowRoles('citizen')
  async create(@CurrentIdentity() citizen: Identity, @Req() req: Request, @Res() res: Response, @Headers('idempotency-key') key?: string) {
    try {
      const result = await this.uploads.upload(req, citizen, key);
      res.status(result.status).setHeader('Location', result.location);
      res.json(result.body);
    } catch (err) {
      // refused before the body was read to its end: answer now, discard the rest
      lingerAfterEarlyResponse(req, res);
      throw err;
    }
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
}
