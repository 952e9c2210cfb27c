import { Controller, Get, Param } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AllowRoles, ApiError, isUuid } from '@dvd/platform';
import { DocumentEntity } from './document.entity';

/**
 * Internal API for other services (role `service`): what communication needs before the
 * document's events arrived, and what export-worker puts into the manifest.
 */
@AllowRoles('service')
@Controller('internal/documents')
export class InternalDocumentController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Get(':id')
  async get(@Param('id') id: string) {
    const doc = isUuid(id) ? await this.db.getRepository(DocumentEntity).findOneBy({ id }) : null;
    if (!doc) throw ApiError.notFound('document', 'document-not-found');
    return {
      id: doc.id,
      citizenId: doc.citizenId,
      authorityId: doc.authorityId,
      unitId: doc.unitId,
      routingRevision: doc.routingRevision,
      status: doc.status,
      referenceNumber: doc.referenceNumber,
      documentType: doc.documentType,
      serviceKey: doc.serviceKey,
      regionKey: doc.regionKey,
      createdAt: doc.createdAt.toISOString(),
      retentionDate: doc.retentionDate.toISOString(),
      payload: { key: doc.payloadKey, size: Number(doc.payloadSize), sha256: doc.payloadSha256, format: doc.payloadFormat },
    };
  }
}
