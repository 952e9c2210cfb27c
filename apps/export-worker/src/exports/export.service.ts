import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Identity } from '@dvd/contracts';
import { ApiError, Messaging, isUuid } from '@dvd/platform';
import { ExportJobEntity } from './export-job.entity';
import { ServiceClients } from './service-clients';

const documentNotFound = () => ApiError.notFound('document', 'document-not-found');

@Injectable()
export class ExportService {
  private readonly logger = new Logger(ExportService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly messaging: Messaging,
    private readonly clients: ServiceClients,
  ) {}

  /** Queues an export of a document of the official's own authority. */
  async request(who: Identity, documentId: string): Promise<ExportJobEntity> {
    let doc;
    try {
      doc = isUuid(documentId) ? await this.clients.document(documentId) : null;
    } catch {
      throw ApiError.unavailable('Intake did not answer; nothing was queued');
    }
    if (!doc || doc.authorityId !== who.authorityId) throw documentNotFound();
    const id = randomUUID();
    return this.messaging.transaction(
      async (manager, emit) => {
        await manager.query(`INSERT INTO export_jobs (id, document_id, authority_id, requested_by) VALUES ($1, $2, $3, $4)`, [
          id,
          doc.id,
          doc.authorityId,
          who.userId,
        ]);
        await emit('export.requested', { jobId: id, documentId: doc.id, authorityId: doc.authorityId });
        this.logger.log({ jobId: id, documentId: doc.id }, 'export requested');
        return manager.getRepository(ExportJobEntity).findOneByOrFail({ id });
      },
      { correlationId: doc.id },
    );
  }

  async get(who: Identity, jobId: string): Promise<ExportJobEntity> {
    const job = isUuid(jobId) ? await this.db.getRepository(ExportJobEntity).findOneBy({ id: jobId }) : null;
    if (!job || job.authorityId !== who.authorityId) throw ApiError.notFound('export job', 'export-job-not-found');
    return job;
  }
}
