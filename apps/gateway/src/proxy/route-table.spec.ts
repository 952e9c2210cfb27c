import { DEAD_LETTER_SERVICES, ROUTES } from '@dvd/contracts';
import { PUBLIC_ROUTE_TABLE, ROUTE_TABLE, publicUpstreamFor, routeTemplateFor, upstreamFor } from './route-table';

/** Concrete paths of a registry route: `{service}` once per service, other variables filled in. */
function concrete(route: (typeof ROUTES)[number]): Array<[string, string]> {
  const services = route.service === '{service}' ? DEAD_LETTER_SERVICES : [route.service];
  return services.map((service) => [
    route.path.replace('{service}', service).replace(/\{\w+\}/g, '0b6e0c4e-6f5c-4c55-9d0e-3c1f4c2d8a11'),
    service,
  ]);
}

describe('upstreamFor', () => {
  it.each([
    ['/documents', 'intake'],
    ['/documents/abc', 'intake'],
    ['/documents/abc/payload', 'intake'],
    ['/documents/abc/threads', 'communication'],
    ['/threads/t1/messages', 'communication'],
    ['/authorities/a1/keys', 'routing-engine'],
    ['/admin/unroutable-documents', 'routing-engine'],
    ['/exports/j1', 'export-worker'],
    ['/admin/dead-letters/intake', 'intake'],
    ['/admin/dead-letters/routing-engine/0b6e0c4e-6f5c-4c55-9d0e-3c1f4c2d8a11/replay', 'routing-engine'],
    ['/admin/dead-letters/communication/x', 'communication'],
    ['/admin/dead-letters/export-worker', 'export-worker'],
    ['/admin/dead-letters', null],
    ['/admin/dead-letters/gateway', null],
    ['/documentsX', null],
    ['/documents/abc/', 'intake'],
    ['/documents/abc/unknown', null],
    ['/documents/abc/threads/t1', null],
    ['/admin/dead-letters/intake/x/y', null],
    ['/authorities', 'routing-engine'],
    ['/authorities/a1/routing-rules/r1', 'routing-engine'],
    ['/events', 'realtime'],
    ['/unknown', null],
  ])('%s → %s', (path, upstream) => {
    expect(upstreamFor(path)).toBe(upstream);
  });
});

describe('the route table and the route registry of libs/contracts', () => {
  it.each(ROUTES.filter((route) => !route.public && route.service !== 'gateway').map((route) => [`${route.method} ${route.path}`, route]))(
    '%s is routed to its owner',
    (_, route) => {
      for (const [path, service] of concrete(route)) expect([path, upstreamFor(path)]).toEqual([path, service]);
    },
  );

  it.each(ROUTES.filter((route) => route.service === 'gateway').map((route) => [`${route.method} ${route.path}`, route]))(
    '%s is answered by the gateway itself, never forwarded',
    (_, route) => {
      for (const [path] of concrete(route)) expect([path, upstreamFor(path)]).toEqual([path, null]);
    },
  );

  it.each(ROUTES.filter((route) => route.public).map((route) => [`${route.method} ${route.path}`, route]))(
    'public %s is routed from the root, to its owner, for GET and HEAD only, and never below /api/v1',
    (_, route) => {
      for (const [path, service] of concrete(route)) {
        expect([path, publicUpstreamFor('GET', path), publicUpstreamFor('HEAD', path)]).toEqual([path, service, service]);
        expect([path, publicUpstreamFor('POST', path), upstreamFor(path)]).toEqual([path, null, null]);
      }
    },
  );

  it('serves the receipt keys publicly and nothing else', () => {
    expect(publicUpstreamFor('GET', '/.well-known/jwks.json')).toBe('intake');
    expect(publicUpstreamFor('GET', '/.well-known/openid-configuration')).toBeNull();
    expect(publicUpstreamFor('GET', '/api/v1/documents')).toBeNull();
    expect(PUBLIC_ROUTE_TABLE).toHaveLength(1);
  });

  it('has no entry that no registered route uses', () => {
    const paths = ROUTES.flatMap(concrete).map(([path]) => path);
    const unused = [...ROUTE_TABLE, ...PUBLIC_ROUTE_TABLE]
      .filter(([pattern]) => !paths.some((path) => pattern.test(path)))
      .map(([pattern]) => String(pattern));
    expect(unused).toEqual([]);
  });
});

describe('routeTemplateFor (the route label of the gateway metrics)', () => {
  it.each([
    ['GET', '/documents', '/documents'],
    ['POST', '/documents', '/documents'],
    ['GET', '/documents/0b6e0c4e-6f5c-4c55-9d0e-3c1f4c2d8a11', '/documents/{id}'],
    ['HEAD', '/documents/0b6e0c4e-6f5c-4c55-9d0e-3c1f4c2d8a11/payload', '/documents/{id}/payload'],
    ['POST', '/threads/t1/messages', '/threads/{id}/messages'],
    ['DELETE', '/admin/dead-letters/intake/0b6e0c4e-6f5c-4c55-9d0e-3c1f4c2d8a11', '/admin/dead-letters/intake/{eventId}'],
    // a method the route does not have: still the path's template (the service answers 404/405)
    ['PUT', '/exports/j1', '/exports/{jobId}'],
    ['GET', '/documents/abc/unknown', null],
    ['GET', '/unknown', null],
  ])('%s %s → %s', (method, path, template) => {
    expect(routeTemplateFor(method, path)).toBe(template);
  });

  it('names every registered route by its registry path, never by a concrete id', () => {
    for (const route of ROUTES.filter((r) => !r.public)) {
      for (const [path, service] of concrete(route))
        expect(routeTemplateFor(route.method.toUpperCase(), path)).toBe(route.path.replace('{service}', service));
    }
  });
});
