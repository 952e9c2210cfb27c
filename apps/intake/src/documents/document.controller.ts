import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { Identity } from '@dvd/contracts';
import { AllowRoles, CurrentIdentity, pageQuery, parseOrThrow } from '@dvd/platform';
import { DOCUMENT_STATUSES } from './document.entity';
import { DocumentService } from './document.service';
import { documentETag, toDocumentView } from './document.view';

const listQuery = z.object({
  ...pageQuery,
  status: z.enum(DOCUMENT_STATUSES).optional(),
  unitId: z.string().max(50).optional(),
});

@AllowRoles('citizen', 'official', 'admin', 'platform-admin')
@Controller('api/v1/documents')
export class DocumentController {
  constructor(private readonly documents: DocumentService) {}

  @Get()
  async list(@CurrentIdentity() viewer: Identity, @Query() query: unknown) {
    const q = parseOrThrow(listQuery, query, 'The query parameters are invalid');
    const page = await this.documents.list(viewer, q);
    return { items: page.items.map((d) => toDocumentView(d, viewer)), nextCursor: page.nextCursor };
  }

  @Get(':id')
  async get(
    @CurrentIdentity() viewer: Identity,
    @Param('id') id: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const doc = await this.documents.getVisible(id, viewer);
    const etag = documentETag(doc, viewer);
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', 'private, no-cache');
    if (
      ifNoneMatch &&
      ifNoneMatch
        .split(',')
        .map((t) => t.trim())
        .some((t) => t === etag || t === '*')
    ) {
      res.status(304);
      return undefined;
    }
    return toDocumentView(doc, viewer);
  }
}
