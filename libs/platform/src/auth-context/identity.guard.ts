import { CanActivate, ExecutionContext, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { Identity, Role } from '@dvd/contracts';
import { ApiError, sendProblem } from '../errors/problem';
import { requestIdFrom } from '../logging/logger';
import { IdentityKeyError, VerifyKey, parseHmacKeys, parseVerifyKeys } from './identity-keys';
import {
  EMPTY_BODY_DIGEST,
  IdentityRefusal,
  MAX_DIGESTED_BODY_BYTES,
  VerifiedIdentity,
  bodyDigest,
  streamedBodyOf,
  verifyIdentity,
} from './identity-signature';
import { ReplayGuard } from './replay-guard';

const PUBLIC_KEY = 'dvd:public';
const ROLES_KEY = 'dvd:roles';
const SERVICES_KEY = 'dvd:services';

/** Marks a route that needs no identity (health, metrics). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);
/** Restricts a route to roles; others get 404 so that routes and ids cannot be probed. */
export const AllowRoles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
/**
 * Narrows an internal route to some of the service's callers (ADR 0014): a service
 * identity other than these gets 404, as for a role the route does not allow.
 */
export const AllowServices = (...services: string[]) => SetMetadata(SERVICES_KEY, services);

const EXPECTED_DIGEST = Symbol('dvd:expected-body-digest');
type RequestWithIdentity = Request & { identity?: Identity; [EXPECTED_DIGEST]?: string };

/** Paths served without identity: probes and metrics, scraped inside the cluster. */
const OPEN_PATHS = /^\/(health\/(live|ready)|metrics)(\?|$)/;
/** The only paths a service identity may call. */
const INTERNAL_PATHS = /^\/internal\//;

export type IdentityPolicyRefusal = IdentityRefusal | 'signer-not-allowed' | 'body-mismatch' | 'replayed';

export interface IdentityVerifierOptions {
  /** `IDENTITY_VERIFY_KEYS`: the gateway's and the calling services' public keys. */
  verifyKeys: string;
  /** Services whose own key this service accepts, on `/internal/*` only (the trust matrix, ADR 0014). */
  callers: readonly string[];
  /**
   * `IDENTITY_HMAC_KEYS` (ADR 0025): the secrets this service shares with the gateway, every
   * one for this service (`aud`); the gateway's Ed25519 key stays valid beside them.
   */
  hmacKeys?: string;
  /** This service's name: the only `aud` its HMAC keys may have. */
  service?: string;
  /**
   * Paths served to anyone, without an identity (the gateway's public routes, e.g. intake's
   * `/.well-known/jwks.json`); their handlers are `@Public()`. Exact paths, any query.
   */
  publicPaths?: readonly string[];
}

/**
 * Who may sign what, on top of a valid signature: the gateway's key signs user roles
 * (never `service`); a service's key signs only its own service identity, only on
 * internal routes, and only for services this one lists as callers. A compromised
 * service therefore cannot speak for a user, let alone a platform admin.
 */
export class IdentityVerifier {
  private readonly keys: ReadonlyMap<string, VerifyKey>;
  private readonly callers: ReadonlySet<string>;
  private readonly publicPaths: ReadonlySet<string>;

  constructor(
    o: IdentityVerifierOptions,
    readonly replay: ReplayGuard,
  ) {
    const keys = parseVerifyKeys(o.verifyKeys);
    for (const hmac of o.hmacKeys ? parseHmacKeys(o.hmacKeys) : []) {
      // another service's secret here would let this one sign for that service
      if (hmac.audience !== o.service) throw new IdentityKeyError(`HMAC key ${hmac.kid} is for another service`);
      if (keys.has(hmac.kid)) throw new IdentityKeyError(`HMAC key ${hmac.kid} has the kid of a verify key`);
      keys.set(hmac.kid, { signer: hmac.signer, key: hmac.key });
    }
    this.keys = keys;
    this.callers = new Set(o.callers);
    this.publicPaths = new Set(o.publicPaths ?? []);
  }

  /** Whether a request path (with or without query) is one of the public paths. */
  isPublicPath(url: string): boolean {
    return this.publicPaths.size > 0 && this.publicPaths.has(url.split('?')[0]);
  }

  verify(headers: IncomingMessage['headers'], method: string, path: string, now = Date.now()): VerifiedIdentity | IdentityPolicyRefusal {
    const v = verifyIdentity(this.keys, headers, method, path, now);
    if (typeof v === 'string') return v;
    if (v.signer === 'gateway') return v.identity.role === 'service' ? 'signer-not-allowed' : v;
    const service = v.signer.slice('service:'.length);
    const allowed =
      v.identity.role === 'service' && v.identity.userId === service && this.callers.has(service) && INTERNAL_PATHS.test(path);
    return allowed ? v : 'signer-not-allowed';
  }
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
}

function refuse(req: Request, res: Response, detail = 'Missing or invalid identity signature') {
  sendProblem(res, ApiError.unauthorized(detail), req.originalUrl.split('?')[0], requestIdFrom(req.headers['x-request-id']));
}

/**
 * Express middleware in front of every route, matched or not: a request without a valid
 * identity signature gets 401 before routing, so unknown paths cannot be probed either.
 * It also refuses a signature seen before (replay) and a body the signature does not
 * cover; a digested body is compared once read (`verifyBodyDigest`, `bodyDigestMiddleware`).
 */
export function identityMiddleware(verifier: IdentityVerifier, onRefusal: (reason: IdentityPolicyRefusal) => void = () => undefined) {
  return (req: RequestWithIdentity, res: Response, next: NextFunction) => {
    if (OPEN_PATHS.test(req.originalUrl) || verifier.isPublicPath(req.originalUrl)) return next();
    const fail = (reason: IdentityPolicyRefusal) => {
      onRefusal(reason);
      refuse(req, res);
    };
    const v = verifier.verify(req.headers, req.method, req.originalUrl);
    if (typeof v === 'string') return fail(v);
    if (v.body.startsWith('streamed ')) {
      if (streamedBodyOf(req.headers) !== v.body) return fail('body-mismatch');
    } else if (!hasBody(req)) {
      if (v.body !== EMPTY_BODY_DIGEST) return fail('body-mismatch');
    } else {
      req[EXPECTED_DIGEST] = v.body;
    }
    verifier.replay.firstUse(v.kid, v.nonce).then(
      (first) => {
        if (!first) return fail('replayed');
        req.identity = v.identity;
        next();
      },
      (err: unknown) => next(err),
    );
  };
}

/** body-parser's `verify`: the body as received must be the body signed. */
export function verifyBodyDigest(req: IncomingMessage, _res: unknown, buf: Buffer): void {
  const r = req as RequestWithIdentity;
  const expected = r[EXPECTED_DIGEST];
  if (expected === undefined) return;
  if (bodyDigest(buf) !== expected) throw ApiError.unauthorized('The request body does not match its identity signature');
  delete r[EXPECTED_DIGEST];
}

/**
 * After the JSON parser: a signed digest that no parser compared (a body of another
 * type) is compared here, reading at most MAX_DIGESTED_BODY_BYTES. Nothing unchecked
 * reaches a route.
 */
export function bodyDigestMiddleware() {
  return (req: RequestWithIdentity, res: Response, next: NextFunction) => {
    const expected = req[EXPECTED_DIGEST];
    if (expected === undefined) return next();
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      req.removeAllListeners('data');
      if (!ok) {
        req.resume();
        return refuse(req, res, 'The request body does not match its identity signature');
      }
      delete req[EXPECTED_DIGEST];
      next();
    };
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_DIGESTED_BODY_BYTES) return finish(false);
      chunks.push(c);
    });
    req.once('end', () => finish(bodyDigest(Buffer.concat(chunks)) === expected));
    req.once('error', (err) => {
      if (!done) {
        done = true;
        next(err);
      }
    });
  };
}

/**
 * Global guard (behind identityMiddleware): every non-public route needs the identity
 * the middleware verified. Missing → 401; a role the route does not allow → 404.
 */
@Injectable()
export class IdentityGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = context.switchToHttp().getRequest<RequestWithIdentity>();
    const identity = req.identity;
    if (!identity) throw ApiError.unauthorized('Missing or invalid identity signature');
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (roles && !roles.includes(identity.role)) throw ApiError.notFound();
    const services = this.reflector.getAllAndOverride<string[] | undefined>(SERVICES_KEY, targets);
    if (services && identity.role === 'service' && !services.includes(identity.userId)) throw ApiError.notFound();
    return true;
  }
}

/** The verified caller of the current request. */
export const CurrentIdentity = createParamDecorator((_data: unknown, ctx: ExecutionContext): Identity => {
  const req = ctx.switchToHttp().getRequest<RequestWithIdentity>();
  if (!req.identity) throw ApiError.unauthorized();
  return req.identity;
});
