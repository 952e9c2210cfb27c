import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { Identity } from '@dvd/contracts';
import { AllowRoles, CurrentIdentity, parseOrThrow } from '@dvd/platform';
import { toJobView } from './export-job.entity';
import { ExportService } from './export.service';

const requestSchema = z.object({ documentId: z.string().uuid() }).strict();

@AllowRoles('official', 'admin', 'platform-admin')
@Controller('api/v1/exports')
export class ExportController {
  constructor(private readonly exports: ExportService) {}

  @Post()
  @HttpCode(202)
  async request(@CurrentIdentity() who: Identity, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const job = await this.exports.request(who, parseOrThrow(requestSchema, body).documentId);
    res.setHeader('Location', `/api/v1/exports/${job.id}`);
    return { jobId: job.id, status: job.status };
  }

  @Get(':jobId')
  async get(@CurrentIdentity() who: Identity, @Param('jobId') jobId: string) {
    return toJobView(await this.exports.get(who, jobId));
  }
}
