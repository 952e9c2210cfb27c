import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AuthorityView, Identity, IngestSecretListView, UnitCreatedView } from '@dvd/contracts';
import { AllowRoles, CurrentIdentity, parseOrThrow } from '@dvd/platform';
import { assertAdminOf, authorityId } from './access';
import { authoritySchemas, createUnitSchema } from './authority.dto';
import { AuthorityService } from './authority.service';

/** Whether ingest URLs may name plain http and local addresses (EXPORT_ALLOW_PRIVATE_TARGETS, development only). */
export const INGEST_TARGET_POLICY = Symbol('INGEST_TARGET_POLICY');
export interface IngestTargetPolicy {
  allowPrivateTargets: boolean;
}

@Controller('api/v1/authorities')
export class AuthorityController {
  private readonly schemas: ReturnType<typeof authoritySchemas>;

  constructor(
    private readonly authorities: AuthorityService,
    @Inject(INGEST_TARGET_POLICY) policy: IngestTargetPolicy,
  ) {
    this.schemas = authoritySchemas(policy.allowPrivateTargets);
  }

  @Post()
  @AllowRoles('platform-admin')
  async create(@Body() body: unknown, @Res({ passthrough: true }) res: Response): Promise<AuthorityView> {
    const input = parseOrThrow(this.schemas.create, body);
    const view = await this.authorities.create(input);
    res.status(201).setHeader('Location', `/api/v1/authorities/${view.id}`);
    return view;
  }

  /** Anyone signed in may read an authority's public profile; its admins also see ingestUrl. */
  @Get(':id')
  get(@CurrentIdentity() viewer: Identity, @Param() params: unknown): Promise<AuthorityView> {
    const id = authorityId(params);
    const isAdmin = (viewer.role === 'admin' || viewer.role === 'platform-admin') && viewer.authorityId === id;
    return this.authorities.get(id, isAdmin);
  }

  @Patch(':id')
  patch(@CurrentIdentity() viewer: Identity, @Param() params: unknown, @Body() body: unknown): Promise<AuthorityView> {
    const id = authorityId(params);
    assertAdminOf(viewer, id);
    return this.authorities.patch(id, parseOrThrow(this.schemas.patch, body));
  }

  /** Rotates the webhook secret without a gap: deliveries carry a signature for each active secret. */
  @Post(':id/ingest-secret')
  @HttpCode(200)
  rotateIngestSecret(@CurrentIdentity() viewer: Identity, @Param() params: unknown, @Body() body: unknown): Promise<IngestSecretListView> {
    const id = authorityId(params);
    assertAdminOf(viewer, id);
    return this.authorities.rotateIngestSecret(id, parseOrThrow(this.schemas.rotateSecret, body));
  }

  @Post(':id/units')
  @HttpCode(201)
  async addUnit(
    @CurrentIdentity() viewer: Identity,
    @Param() params: unknown,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<UnitCreatedView> {
    const id = authorityId(params);
    assertAdminOf(viewer, id);
    const unit = await this.authorities.addUnit(id, parseOrThrow(createUnitSchema, body));
    res.setHeader('Location', `/api/v1/authorities/${id}`);
    return unit;
  }
}
