import { Body, Controller, Get, HttpCode, Param, Patch, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Identity } from '@dvd/contracts';
import { AllowRoles, CurrentIdentity, parseOrThrow } from '@dvd/platform';
import { assertAdminOf } from './access';
import { createAuthoritySchema, createUnitSchema, patchAuthoritySchema } from './authority.dto';
import { AuthorityService } from './authority.service';

@Controller('api/v1/authorities')
export class AuthorityController {
  constructor(private readonly authorities: AuthorityService) {}

  @Post()
  @AllowRoles('platform-admin')
  async create(@Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const input = parseOrThrow(createAuthoritySchema, body);
    const view = await this.authorities.create(input);
    res.status(201).setHeader('Location', `/api/v1/authorities/${view.id}`);
    return view;
  }

  /** Anyone signed in may read an authority's public profile; its admins also see ingestUrl. */
  @Get(':id')
  get(@CurrentIdentity() viewer: Identity, @Param('id') id: string) {
    const isAdmin = (viewer.role === 'admin' || viewer.role === 'platform-admin') && viewer.authorityId === id;
    return this.authorities.get(id, isAdmin);
  }

  @Patch(':id')
  patch(@CurrentIdentity() viewer: Identity, @Param('id') id: string, @Body() body: unknown) {
    assertAdminOf(viewer, id);
    return this.authorities.patch(id, parseOrThrow(patchAuthoritySchema, body));
  }

  @Post(':id/units')
  @HttpCode(201)
  async addUnit(
    @CurrentIdentity() viewer: Identity,
    @Param('id') id: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    assertAdminOf(viewer, id);
    const unit = await this.authorities.addUnit(id, parseOrThrow(createUnitSchema, body));
    res.setHeader('Location', `/api/v1/authorities/${id}`);
    return unit;
  }
}
