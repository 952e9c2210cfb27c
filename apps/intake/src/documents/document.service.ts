import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DocumentListFilter, Identity } from '@dvd/contracts';
import { ApiError, isUuid, Keyset, decodeCursor, keysetPage, keysetTimestampSql } from '@dvd/platform';
import { overdueSql } from './document-status';
import { DocumentEntity } from './document.entity';

/** Visibility: citizens see what they created, everyone else what belongs to their authority. */
function scopeOf(viewer: Identity): { column: 'citizen_id' | 'authority_id'; value: string } {
  if (viewer.role === 'citizen') return { column: 'citizen_id', value: viewer.userId };
  if (!viewer.authorityId) throw ApiError.notFound('document');
  return { column: 'authority_id', value: viewer.authorityId };
}

@Injectable()
export class DocumentService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** One document if the viewer may see it; otherwise 404 (never 403: ids cannot be probed). */
  async getVisible(id: string, viewer: Identity): Promise<DocumentEntity> {
    if (!isUuid(id)) throw ApiError.notFound('document', 'document-not-found');
    const scope = scopeOf(viewer);
    const doc = await this.db
      .getRepository(DocumentEntity)
      .findOneBy({ id, [scope.column === 'citizen_id' ? 'citizenId' : 'authorityId']: scope.value });
    if (!doc) throw ApiError.notFound('document', 'document-not-found');
    return doc;
  }

  /**
   * Newest first, keyset-paged on (created_at, id): served by
   * documents_citizen_created_idx / documents_authority_created_idx.
   */
  async list(viewer: Identity, f: DocumentListFilter): Promise<{ items: DocumentEntity[]; nextCursor: string | null }> {
    const scope = scopeOf(viewer);
    const after: Keyset | null = decodeCursor(f.cursor);
    const params: unknown[] = [scope.value];
    const where = [`${scope.column} = $1`];
    if (after) {
      params.push(after.at, after.id);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    if (f.status) {
      params.push(f.status);
      where.push(`status = $${params.length}`);
    }
    if (f.unitId) {
      params.push(f.unitId);
      where.push(`unit_id = $${params.length}`);
    }
    // an official's escalation inbox is served by documents_overdue_idx
    if (f.overdue !== undefined) where.push(f.overdue ? overdueSql() : `NOT ${overdueSql()}`);
    params.push(f.limit + 1);
    const rows: Array<{ id: string; cursor_at: string }> = await this.db.query(
      `SELECT id, ${keysetTimestampSql('created_at')} AS cursor_at
         FROM documents WHERE ${where.join(' AND ')}
        ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const page = keysetPage(rows, f.limit, (r) => ({ at: r.cursor_at, id: r.id }));
    const entities = page.items.length
      ? await this.db
          .getRepository(DocumentEntity)
          .createQueryBuilder('d')
          .whereInIds(page.items.map((r) => r.id))
          .getMany()
      : [];
    const byId = new Map(entities.map((e) => [e.id, e]));
    return { items: page.items.map((r) => byId.get(r.id)).filter((e): e is DocumentEntity => !!e), nextCursor: page.nextCursor };
  }
}
