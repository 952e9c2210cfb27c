import { Body, Controller, Get, Param, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ExportCreateSchema, Identity } from '@dvd/contracts';
import { AllowRoles, CurrentIdentity, parseOrThrow } from '@dvd/platform';
import { toJobView } from './export-job.entity';
import { ExportService } from './export.service';

/** The contract's shape (libs/contracts/src/http/exports.ts). */
const requestSchema = ExportCreateSchema;

@AllowRoles('official', 'admin', 'platform-admin')
@Controller('api/v1/exports')
export class ExportController {
  constructor(private readonly exports: ExportService) {}

  /** 202 with a new job; 200 with the document's job that is still pending or running, or completed within the cool-down. */
  @Post()
  async request(@CurrentIdentity() who: Identity, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const { job, created } = await this.exports.request(who, parseOrThrow(requestSchema, body).documentId);
    res.status(created ? 202 : 200).setHeader('Location', `/api/v1/exports/${job.id}`);
    return { jobId: job.id, documentId: job.documentId, status: job.status };
  }

  @Get(':jobId')
  async get(@CurrentIdentity() who: Identity, @Param('jobId') jobId: string) {
    return toJobView(await this.exports.get(who, jobId));
  }
}
