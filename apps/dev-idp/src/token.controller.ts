import { Body, Controller, Get, Inject, Param, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { ApiError, Public, parseOrThrow } from '@dvd/platform';
import { DevIdpConfig } from './dev-idp.config';
import { IssuerName, SigningKey } from './key-store';

export const DEV_IDP_CONFIG = Symbol('DEV_IDP_CONFIG');
export const DEV_IDP_KEYS = Symbol('DEV_IDP_KEYS');

const tokenRequest = z
  .object({
    role: z.enum(['citizen', 'official', 'admin', 'platform-admin']),
    sub: z.string().min(1).max(200).optional(),
    authority: z
      .string()
      .regex(/^[a-z0-9-]{2,50}$/)
      .optional(),
    scope: z.string().max(500).optional(),
    ttlSeconds: z.number().int().min(1).max(86_400).default(3600),
  })
  .strict();

const ROLE_SCOPE: Record<string, string> = { official: 'dvd:official', admin: 'dvd:admin', 'platform-admin': 'dvd:platform-admin' };

/** Development identity provider: JWKS of two issuers and a token endpoint for any role. */
@Public()
@Controller()
export class TokenController {
  constructor(
    @Inject(DEV_IDP_CONFIG) private readonly config: DevIdpConfig,
    @Inject(DEV_IDP_KEYS) private readonly keys: Record<IssuerName, SigningKey>,
  ) {}

  private base(req: Request): string {
    return this.config.DEV_IDP_BASE_URL ?? `http://${req.headers.host ?? `127.0.0.1:${this.config.DEV_IDP_PORT}`}`;
  }

  @Get(':issuer/jwks.json')
  jwks(@Param('issuer') issuer: string) {
    if (issuer !== 'citizen' && issuer !== 'official') throw ApiError.notFound('issuer');
    return { keys: [this.keys[issuer].publicJwk] };
  }

  @Get(':issuer/.well-known/openid-configuration')
  discovery(@Param('issuer') issuer: string, @Req() req: Request) {
    if (issuer !== 'citizen' && issuer !== 'official') throw ApiError.notFound('issuer');
    const iss = `${this.base(req)}/${issuer}`;
    return { issuer: iss, jwks_uri: `${iss}/jwks.json`, token_endpoint: `${this.base(req)}/token` };
  }

  @Post('token')
  async token(@Body() body: unknown, @Req() req: Request) {
    const input = parseOrThrow(tokenRequest, body);
    const issuer: IssuerName = input.role === 'citizen' ? 'citizen' : 'official';
    if (issuer === 'official' && !input.authority) {
      throw ApiError.badRequest('Official tokens need an authority', [{ field: 'authority', message: 'is required for this role' }]);
    }
    const key = this.keys[issuer];
    const sub = input.sub ?? `${input.role}-${Math.random().toString(36).slice(2, 10)}`;
    const claims: Record<string, unknown> = {};
    if (issuer === 'official') {
      claims.authority_id = input.authority;
      claims.scope = input.scope ?? ROLE_SCOPE[input.role];
    }
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(`${this.base(req)}/${issuer}`)
      .setAudience(this.config.AUTH_AUDIENCE)
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime(`${input.ttlSeconds}s`)
      .sign(key.privateKey);
    return { access_token: token, token_type: 'Bearer', expires_in: input.ttlSeconds, sub };
  }
}
