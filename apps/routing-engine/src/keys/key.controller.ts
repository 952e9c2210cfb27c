import { Body, Controller, Delete, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Identity, Jwk, JwkInputSchema, Jwks, KeyParams } from '@dvd/contracts';
import { ApiError, CurrentIdentity, parseOrThrow, parsePathParams } from '@dvd/platform';
import { assertAdminOf, authorityId } from '../authorities/access';
import { KeyService } from './key.service';

@Controller('api/v1/authorities/:id/keys')
export class KeyController {
  constructor(private readonly keys: KeyService) {}

  /** Public: anyone signed in fetches the keys to encrypt for this authority. */
  @Get()
  list(@Param() params: unknown): Promise<Jwks> {
    return this.keys.activeJwks(authorityId(params));
  }

  /** The contract's `JwkInput` (400 if not even that); what the key is worth is judged by the service (422). */
  @Post()
  async add(
    @CurrentIdentity() viewer: Identity,
    @Param() params: unknown,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Jwk> {
    const id = authorityId(params);
    assertAdminOf(viewer, id);
    const jwk = await this.keys.add(id, parseOrThrow(JwkInputSchema, body));
    res.status(201).setHeader('Location', `/api/v1/authorities/${id}/keys`);
    return jwk;
  }

  @Delete(':kid')
  @HttpCode(204)
  async retire(@CurrentIdentity() viewer: Identity, @Param() params: unknown) {
    const { id, kid } = parsePathParams(KeyParams, params, () => ApiError.notFound('key', 'key-not-found'));
    assertAdminOf(viewer, id);
    await this.keys.retire(id, kid);
  }
}
