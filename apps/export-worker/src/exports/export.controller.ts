import { Body, Controller, Get, Param, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ExportAcceptedView, ExportCreateSchema, ExportJobView, ExportParams, Identity } from '@dvd/contracts';
import { AllowRoles, ApiError, CurrentIdentity, parseOrThrow, parsePathParams } from '@dvd/platform';
import { toJobView } from './export-job.entity';
import { ExportService } from './export.service';

/** The job id of the path (the contract's `ExportParams`); anything else names no job. */
const jobId = (params: unknown): string =>
  parsePathParams(ExportParams, params, () => ApiError.notFound('export job', 'export-job-not-found')).jobId;

@AllowRoles('official', 'admin', 'platform-admin')
@Controller('api/v1/exports')
export class ExportController {
  constructor(private readonly exports: ExportService) {}

  /** 202 with a new job; 200 with the document's job that is still pending or running, or completed within the cool-down. */
  @Post()
  async request(
    @CurrentIdentity() who: Identity,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ExportAcceptedView> {
    const { job, created } = await this.exports.request(who, parseOrThrow(ExportCreateSchema, body).documentId);
    res.status(created ? 202 : 200).setHeader('Location', `/api/v1/exports/${job.id}`);
    return { jobId: job.id, documentId: job.documentId, status: job.status };
  }

  @Get(':jobId')
  async get(@CurrentIdentity() who: Identity, @Param() params: unknown): Promise<ExportJobView> {
    return toJobView(await this.exports.get(who, jobId(params)));
  }
}
