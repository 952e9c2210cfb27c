import { Controller, Get, Param } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AllowRoles } from '@dvd/platform';
import { authorityNotFound } from './access';
import { AuthorityEntity } from './authority.entity';

/**
 * Internal API for export-worker (role `service`): where and how to deliver an
 * authority's exports. The ingest URL comes only from here, never from a request (SSRF);
 * the secret never travels over the event bus.
 */
@AllowRoles('service')
@Controller('internal/authorities')
export class InternalAuthorityController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Get(':id/ingest')
  async ingest(@Param('id') id: string) {
    const authority = await this.db.getRepository(AuthorityEntity).findOneBy({ id });
    if (!authority) throw authorityNotFound();
    return { authorityId: authority.id, ingestUrl: authority.ingestUrl, ingestSecret: authority.ingestSecret };
  }
}
