import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import { Identity, Role } from '@dvd/contracts';
import { ApiError, sendProblem } from '../errors/problem';
import { requestIdFrom } from '../logging/logging';
import { verifyIdentity } from './identity-signature';

export const INTERNAL_AUTH_SECRET = Symbol('INTERNAL_AUTH_SECRET');
const PUBLIC_KEY = 'dvd:public';
const ROLES_KEY = 'dvd:roles';

/** Marks a route that needs no identity (health, metrics). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);
/** Restricts a route to roles; others get 404 so that routes and ids cannot be probed. */
export const AllowRoles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

type RequestWithIdentity = Request & { identity?: Identity };

/** Paths served without identity: probes and metrics, scraped inside the cluster. */
const OPEN_PATHS = /^\/(health\/(live|ready)|metrics)(\?|$)/;

/**
 * Express middleware in front of every route, matched or not: a request without a valid
 * identity signature gets 401 before routing, so unknown paths cannot be probed either.
 */
export function identityMiddleware(secret: string) {
  return (req: RequestWithIdentity, res: Response, next: NextFunction) => {
    if (OPEN_PATHS.test(req.originalUrl)) return next();
    const identity = verifyIdentity(secret, req.headers, req.method, req.originalUrl);
    if (!identity) {
      sendProblem(
        res,
        ApiError.unauthorized('Missing or invalid identity signature'),
        req.originalUrl.split('?')[0],
        requestIdFrom(req.headers['x-request-id']),
      );
      return;
    }
    req.identity = identity;
    next();
  };
}

/**
 * Global guard (behind identityMiddleware): every non-public route requires identity headers signed with
 * INTERNAL_AUTH_SECRET (stamped by the gateway, or by a calling service). Missing or
 * wrong signature → 401.
 */
@Injectable()
export class IdentityGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(INTERNAL_AUTH_SECRET) private readonly secret: string,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = context.switchToHttp().getRequest<RequestWithIdentity>();
    const identity = req.identity ?? verifyIdentity(this.secret, req.headers, req.method, req.originalUrl);
    if (!identity) throw ApiError.unauthorized('Missing or invalid identity signature');
    req.identity = identity;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (roles && !roles.includes(identity.role)) throw ApiError.notFound();
    return true;
  }
}

/** The verified caller of the current request. */
export const CurrentIdentity = createParamDecorator((_data: unknown, ctx: ExecutionContext): Identity => {
  const req = ctx.switchToHttp().getRequest<RequestWithIdentity>();
  if (!req.identity) throw ApiError.unauthorized();
  return req.identity;
});
