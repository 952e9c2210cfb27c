import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AppointmentConfirmSchema, CALENDAR_CONTENT_TYPE, Identity, ThreadParams, ThreadView } from '@dvd/contracts';
import { AllowRoles, CurrentIdentity, parseOrThrow, parsePathParams } from '@dvd/platform';
import { threadNotFound } from '../threads/thread-access';
import { toThreadView } from '../threads/thread.view';
import { AppointmentService } from './appointment.service';

const threadId = (params: unknown): string => parsePathParams(ThreadParams, params, threadNotFound).id;

/** The appointment of an APPOINTMENT thread (libs/contracts/src/http/threads.ts): confirm, cancel, calendar file. */
@AllowRoles('citizen', 'official', 'admin', 'platform-admin')
@Controller('api/v1/threads')
export class AppointmentController {
  constructor(private readonly appointments: AppointmentService) {}

  @Post(':id/appointment/confirm')
  @HttpCode(200)
  async confirm(@CurrentIdentity() who: Identity, @Param() params: unknown, @Body() body: unknown): Promise<ThreadView> {
    const { start } = parseOrThrow(AppointmentConfirmSchema, body);
    return toThreadView(await this.appointments.confirm(who, threadId(params), start), who);
  }

  @Post(':id/appointment/cancel')
  @HttpCode(200)
  async cancel(@CurrentIdentity() who: Identity, @Param() params: unknown): Promise<ThreadView> {
    return toThreadView(await this.appointments.cancel(who, threadId(params)), who);
  }

  @Get(':id/appointment.ics')
  async calendar(@CurrentIdentity() who: Identity, @Param() params: unknown, @Res() res: Response): Promise<void> {
    const file = await this.appointments.calendar(who, threadId(params));
    res
      .status(200)
      .setHeader('Content-Type', `${CALENDAR_CONTENT_TYPE}; charset=utf-8`)
      .setHeader('Content-Disposition', `attachment; filename="${file.filename}"`)
      .setHeader('Cache-Control', 'private, no-store')
      .send(Buffer.from(file.body, 'utf8'));
  }
}
