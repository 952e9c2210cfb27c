import { Body, Controller, Inject, Post } from '@nestjs/common';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { ApiError, Public, parseOrThrow } from '@dvd/platform';
import { DevIdpConfig, baseUrlOf } from './dev-idp.config';
import { IssuerName, SigningKey } from './key-store';
import { ROLE_SCOPE } from './oidc/accounts';

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

/**
 * Development identity provider: a token for any role without a login, for scripts, tests,
 * the CLI and the bench (`npm run token`). Same issuers and keys as the OpenID providers
 * (which serve the JWKS and discovery documents).
 */
@Public()
@Controller()
export class TokenController {
  constructor(
    @Inject(DEV_IDP_CONFIG) private readonly config: DevIdpConfig,
    @Inject(DEV_IDP_KEYS) private readonly keys: Record<IssuerName, SigningKey>,
  ) {}

  @Post('token')
  async token(@Body() body: unknown) {
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
      claims.scope = input.scope ?? ROLE_SCOPE[input.role as keyof typeof ROLE_SCOPE];
    }
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(`${baseUrlOf(this.config)}/${issuer}`)
      .setAudience(this.config.AUTH_AUDIENCE)
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime(`${input.ttlSeconds}s`)
      .sign(key.privateKey);
    return { access_token: token, token_type: 'Bearer', expires_in: input.ttlSeconds, sub };
  }
}
