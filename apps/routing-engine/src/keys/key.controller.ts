import { Body, Controller, Delete, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Identity } from '@dvd/contracts';
import { CurrentIdentity } from '@dvd/platform';
import { assertAdminOf } from '../authorities/access';
import { KeyService } from './key.service';

@Controller('api/v1/authorities/:id/keys')
export class KeyController {
  constructor(private readonly keys: KeyService) {}

  /** Public: anyone signed in fetches the keys to encrypt for this authority. */
  @Get()
  list(@Param('id') id: string) {
    return this.keys.activeJwks(id);
  }

  @Post()
  async add(
    @CurrentIdentity() viewer: Identity,
    @Param('id') id: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    assertAdminOf(viewer, id);
    const jwk = await this.keys.add(id, body);
    res.status(201).setHeader('Location', `/api/v1/authorities/${id}/keys`);
    return jwk;
  }

  @Delete(':kid')
  @HttpCode(204)
  async retire(@CurrentIdentity() viewer: Identity, @Param('id') id: string, @Param('kid') kid: string) {
    assertAdminOf(viewer, id);
    await this.keys.retire(id, kid);
  }
}
