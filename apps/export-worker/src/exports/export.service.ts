import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Identity } from '@dvd/contracts';
import { ApiError, Messaging, isUuid } from '@dvd/platform';
import { ExportWorkerConfig } from '../export-worker.config';
import { ExportJobEntity } from './export-job.entity';
import { EXPORT_CONFIG } from './export-runner';
import { ServiceClients } from './service-clients';

const documentNotFound = () => ApiError.notFound('document', 'document-not-found');

export interface ExportRequestResult {
  job: ExportJobEntity;
  /** false: an earlier job answers the request (one still pending or running, or one completed within the cool-down). */
  created: boolean;
}

@Injectable()
export class ExportService {
  private readonly logger = new Logger(ExportService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly messaging: Messaging,
    private readonly clients: ServiceClients,
    @Inject(EXPORT_CONFIG) private readonly config: Pick<ExportWorkerConfig, 'EXPORT_REPEAT_AFTER_MS'>,
  ) {}

  /**
   * Queues an export of a document of the official's own authority — unless a job of the
   * document is still PENDING or RUNNING, or one COMPLETED less than EXPORT_REPEAT_AFTER_MS
   * ago: then that job is the answer. The partial unique index
   * export_jobs_one_active_per_document decides races between concurrent requests.
   */
  async request(who: Identity, documentId: string): Promise<ExportRequestResult> {
    let doc;
    try {
      doc = isUuid(documentId) ? await this.clients.document(documentId) : null;
    } catch {
      throw ApiError.unavailable('Intake did not answer; nothing was queued');
    }
    if (!doc || doc.authorityId !== who.authorityId) throw documentNotFound();
    const { id: docId, authorityId } = doc;
    const unitId = doc.unitId ?? null;
    return this.messaging.transaction(
      async (manager, emit) => {
        // a job that completes or fails between the INSERT and the look-up is looked for again
        for (let round = 0; round < 3; round++) {
          const earlier = await this.earlierJob(manager, docId);
          if (earlier) return { job: earlier, created: false };
          const id = randomUUID();
          const inserted = (await manager.query(
            `INSERT INTO export_jobs (id, document_id, authority_id, unit_id, requested_by) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (document_id) WHERE status IN ('PENDING', 'RUNNING') DO NOTHING RETURNING id`,
            [id, docId, authorityId, unitId, who.userId],
          )) as unknown[]; // INSERT … RETURNING: the rows (UPDATE would give [rows, count])
          if (!inserted.length) continue; // a concurrent request's job won; it is found above
          await emit('export.requested', { jobId: id, documentId: docId, authorityId, unitId });
          this.logger.log({ jobId: id, documentId: docId }, 'export requested');
          return { job: await manager.getRepository(ExportJobEntity).findOneByOrFail({ id }), created: true };
        }
        throw ApiError.conflict('export-busy', 'The document’s export jobs are changing; try again');
      },
      { correlationId: docId },
    );
  }

  /** The document's PENDING/RUNNING job, else its latest job COMPLETED within the cool-down. */
  private async earlierJob(manager: EntityManager, documentId: string): Promise<ExportJobEntity | null> {
    const [row] = (await manager.query(
      `(SELECT id, 0 AS rank FROM export_jobs WHERE document_id = $1 AND status IN ('PENDING', 'RUNNING'))
       UNION ALL
       (SELECT id, 1 AS rank FROM export_jobs
         WHERE document_id = $1 AND status = 'COMPLETED' AND completed_at > now() - ($2::bigint * interval '1 millisecond')
         ORDER BY completed_at DESC LIMIT 1)
       ORDER BY rank LIMIT 1`,
      [documentId, this.config.EXPORT_REPEAT_AFTER_MS],
    )) as Array<{ id: string }>;
    return row ? manager.getRepository(ExportJobEntity).findOneBy({ id: row.id }) : null;
  }

  async get(who: Identity, jobId: string): Promise<ExportJobEntity> {
    const job = isUuid(jobId) ? await this.db.getRepository(ExportJobEntity).findOneBy({ id: jobId }) : null;
    if (!job || job.authorityId !== who.authorityId) throw ApiError.notFound('export job', 'export-job-not-found');
    return job;
  }
}
