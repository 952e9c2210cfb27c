import { Controller, Get, Param } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Identity } from '@dvd/contracts';
import { AllowRoles, ApiError, isUuid, CurrentIdentity } from '@dvd/platform';

@AllowRoles('official', 'admin', 'platform-admin')
@Controller('api/v1/exports')
export class ExportController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Get(':jobId')
  async get(@CurrentIdentity() viewer: Identity, @Param('jobId') jobId: string) {
    if (!isUuid(jobId)) throw ApiError.notFound('export job', 'export-job-not-found');
    const rows: Array<Record<string, unknown>> = await this.db.query(`SELECT id FROM export_jobs WHERE id = $1 AND authority_id = $2`, [
      jobId,
      viewer.authorityId,
    ]);
    if (!rows.length) throw ApiError.notFound('export job', 'export-job-not-found');
    return rows[0];
  }
}
