import { Controller, Get, Query } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { UnroutableDocumentPageView, UnroutableListQuery } from '@dvd/contracts';
import { AllowRoles, decodeCursor, keysetPage, parseOrThrow, keysetTimestampSql } from '@dvd/platform';

/** Platform admins see documents that could not be routed (ids only). */
@AllowRoles('platform-admin')
@Controller('api/v1/admin/unroutable-documents')
export class UnroutableController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Get()
  async list(@Query() raw: unknown): Promise<UnroutableDocumentPageView> {
    const q = parseOrThrow(UnroutableListQuery, raw, 'The query parameters are invalid');
    const after = decodeCursor(q.cursor);
    const params: unknown[] = [];
    const where = [`outcome = 'UNROUTABLE'`];
    if (after) {
      params.push(after.at, after.id);
      where.push(`(decided_at, document_id) < ($1::timestamptz, $2::uuid)`);
    }
    if (q.authorityId) {
      params.push(q.authorityId);
      where.push(`authority_id = $${params.length}`);
    }
    params.push(q.limit + 1);
    // served by routing_decisions_unroutable_idx (decided_at DESC, document_id) WHERE outcome = 'UNROUTABLE'
    const rows: Array<{ document_id: string; authority_id: string; reason: string; at: string }> = await this.db.query(
      `SELECT document_id, authority_id, reason, ${keysetTimestampSql('decided_at')} AS at
         FROM routing_decisions WHERE ${where.join(' AND ')}
        ORDER BY decided_at DESC, document_id DESC LIMIT $${params.length}`,
      params,
    );
    const page = keysetPage(rows, q.limit, (r) => ({ at: r.at, id: r.document_id }));
    return {
      items: page.items.map((r) => ({ documentId: r.document_id, authorityId: r.authority_id, reason: r.reason, receivedAt: r.at })),
      nextCursor: page.nextCursor,
    };
  }
}
