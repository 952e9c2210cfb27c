import { Controller, Get, Query } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { Identity } from '@dvd/contracts';
import { AllowRoles, CurrentIdentity, pageQuery, parseOrThrow } from '@dvd/platform';

const inboxQuery = z.object({ ...pageQuery });

@AllowRoles('citizen', 'official', 'admin', 'platform-admin')
@Controller('api/v1/threads')
export class ThreadController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The caller's inbox: a citizen's own threads, or the threads of an official's authority. */
  @Get()
  async inbox(@CurrentIdentity() viewer: Identity, @Query() query: unknown) {
    const q = parseOrThrow(inboxQuery, query, 'The query parameters are invalid');
    const [column, value] = viewer.role === 'citizen' ? ['citizen_id', viewer.userId] : ['authority_id', viewer.authorityId];
    const rows: Array<Record<string, unknown>> = await this.db.query(
      `SELECT id FROM threads WHERE ${column} = $1 ORDER BY last_activity_at DESC, id DESC LIMIT $2`,
      [value, q.limit],
    );
    return { items: rows, nextCursor: null };
  }
}
