import { DEAD_LETTER_SERVICES, ROUTES, type Upstream } from '@dvd/contracts';

interface RouterLayer {
  route?: { path: unknown; methods?: Record<string, boolean> };
}

const PREFIX = '/api/v1';
/** `/documents/{id}` and `/documents/:documentId` alike become `/documents/{}`. */
const normalise = (path: string) => path.replace(/\{[^}]+\}|:[A-Za-z0-9_]+/g, '{}');

/** The registry's public routes served from the root (no token): `/.well-known/jwks.json`. */
const ROOT_PATHS = new Set(ROUTES.filter((route) => route.public).map((route) => route.path));

/**
 * The public routes a booted Nest app mounted (below /api/v1, and the registry's root routes),
 * read from the Express router, as sorted `METHOD /path/{}` lines. Health, metrics and internal
 * routes are not public.
 */
export function mountedPublicRoutes(app: { getHttpAdapter(): { getInstance(): unknown } }): string[] {
  const express = app.getHttpAdapter().getInstance() as { router?: { stack: RouterLayer[] }; _router?: { stack: RouterLayer[] } };
  const stack = (express.router ?? express._router)?.stack ?? [];
  const lines = stack.flatMap((layer) => {
    const { route } = layer;
    if (!route || typeof route.path !== 'string') return [];
    if (!route.path.startsWith(`${PREFIX}/`) && !ROOT_PATHS.has(route.path)) return [];
    const path = normalise(route.path.startsWith(`${PREFIX}/`) ? route.path.slice(PREFIX.length) : route.path);
    return Object.keys(route.methods ?? {})
      .filter((method) => method !== '_all')
      .map((method) => `${method.toUpperCase()} ${path}`);
  });
  return [...new Set(lines)].sort();
}

/** The routes the contract registry says a service owns, in the form of mountedPublicRoutes(). */
export function registeredRoutesOf(service: Upstream): string[] {
  const hasDeadLetters = (DEAD_LETTER_SERVICES as readonly string[]).includes(service);
  return ROUTES.filter((route) => route.service === service || (route.service === '{service}' && hasDeadLetters))
    .map((route) => `${route.method.toUpperCase()} ${normalise(route.path.replace('{service}', service))}`)
    .sort();
}
