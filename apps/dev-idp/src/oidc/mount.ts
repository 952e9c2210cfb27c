/**
 * Puts the two providers on the Nest app's express instance under /citizen and /official,
 * in front of Nest's routes: everything below an issuer is oidc-provider's except the
 * account picker (`/<issuer>/interaction/…`, a Nest controller). Sets the security headers
 * of every answer of the IdP (a Content-Security-Policy without any script).
 */
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { formFields, readBody } from './forms';
import { IssuerProviders } from './providers';

/** oidc-provider's own limit for a request body. */
const BODY_LIMIT = 56 * 1024;
/** The endpoints whose bodies may carry `resource`: token, pushed authorization request. */
const BODY_ROUTES = new Set(['/token', '/request']);

/** `script-src` is absent (`default-src 'none'`): no script runs on any page of the IdP. */
export function contentSecurityPolicy(formTargets: string[]): string {
  return [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    // a form's redirects count too: the picker and the logout page end at the browser app
    `form-action 'self' ${formTargets.join(' ')}`.trim(),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function mountProviders(
  app: NestExpressApplication,
  providers: IssuerProviders,
  o: { audience: string; webOrigins: string[] },
): void {
  const csp = contentSecurityPolicy(o.webOrigins);
  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });

  for (const oidc of Object.values(providers)) {
    const callback = oidc.provider.callback();
    const resource = oidc.resourceIndicator;
    app.use(`/${oidc.name}`, (req: Request, res: Response, next: NextFunction) => {
      if (req.path.startsWith('/interaction/')) return next();
      const send = () => void callback(req, res);
      if (resource === o.audience) return send();
      rewriteQueryResource(req, o.audience, resource);
      // the token and pushed-authorization endpoints' bodies: read here, handed over parsed
      // (oidc-provider takes req.body, with a one-time warning that an upstream parser is
      // "not recommended": this one parses exactly as oidc-provider would)
      if (req.method === 'POST' && BODY_ROUTES.has(req.path) && req.is('application/x-www-form-urlencoded')) {
        readBody(req, BODY_LIMIT).then(
          (body) => {
            const fields = formFields(body);
            if (fields.resource !== undefined) fields.resource = swap(fields.resource, o.audience, resource);
            (req as Request & { body: unknown }).body = fields;
            send();
          },
          () => {
            res.status(413).json({ error: 'invalid_request', error_description: 'request body too large' });
          },
        );
        return;
      }
      send();
    });
  }
}

function swap(values: string | string[], from: string, to: string): string | string[] {
  return Array.isArray(values) ? values.map((v) => (v === from ? to : v)) : values === from ? to : values;
}

/** `?resource=<audience>` → `?resource=<indicator>`, in req.url and req.originalUrl alike. */
function rewriteQueryResource(req: Request, audience: string, indicator: string): void {
  const q = req.url.indexOf('?');
  if (q < 0) return;
  const params = new URLSearchParams(req.url.slice(q + 1));
  const values = params.getAll('resource');
  if (!values.includes(audience)) return;
  params.delete('resource');
  for (const v of swap(values, audience, indicator)) params.append('resource', v);
  const query = params.toString();
  req.url = `${req.url.slice(0, q)}?${query}`;
  const oq = req.originalUrl.indexOf('?');
  req.originalUrl = `${req.originalUrl.slice(0, oq)}?${query}`;
}
