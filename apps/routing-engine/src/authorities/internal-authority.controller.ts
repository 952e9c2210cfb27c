import { Controller, Get, Param } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AllowRoles, AllowServices } from '@dvd/platform';
import { authorityNotFound } from './access';
import { AuthorityEntity } from './authority.entity';
import { IngestSecretStore } from './ingest-secret.store';

/**
 * Internal API for export-worker (role `service`): where and how to deliver an
 * authority's exports. The ingest URL comes only from here, never from a request (SSRF);
 * the secrets never travel over the event bus, and travel here only sealed (AES-256-GCM
 * envelopes the export worker opens with SECRETS_ENCRYPTION_KEYS), current first.
 */
@AllowRoles('service')
@AllowServices('export-worker')
@Controller('internal/authorities')
export class InternalAuthorityController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly secrets: IngestSecretStore,
  ) {}

  @Get(':id/ingest')
  async ingest(@Param('id') id: string) {
    const authority = await this.db.getRepository(AuthorityEntity).findOneBy({ id });
    if (!authority) throw authorityNotFound();
    return { authorityId: authority.id, ingestUrl: authority.ingestUrl, ingestSecrets: await this.secrets.activeSealed(id) };
  }
}
