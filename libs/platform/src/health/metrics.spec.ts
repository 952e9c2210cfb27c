import type { Request } from 'express';
import { normaliseRouteTemplate, routeTemplateOf, setRouteTemplate } from './metrics';

type FakeRoute = { path: string; methods: Record<string, boolean> };
const app = {
  router: {
    stack: [
      { route: { path: '/api/v1/documents', methods: { get: true, post: true } } },
      { route: { path: '/api/v1/documents/:id', methods: { get: true } } },
      { route: { path: '/api/v1/documents/:id/payload', methods: { get: true } } },
      { route: { path: '/internal/documents/:id/holders/:officialId', methods: { get: true } } },
      { route: { path: '/health/ready', methods: { get: true } } },
      {}, // a middleware layer
    ] as Array<{ route?: FakeRoute }>,
  },
};
const request = (method: string, url: string, extra: Partial<Request> = {}) =>
  ({ method, originalUrl: url, url, baseUrl: '', app, ...extra }) as unknown as Request;

describe('routeTemplateOf: the route label, never a raw path', () => {
  it('uses the Express route that handled the request', () => {
    expect(routeTemplateOf(request('GET', '/api/v1/documents/abc?x=1', { route: { path: '/api/v1/documents/:id' } }))).toBe(
      '/api/v1/documents/{id}',
    );
  });

  it('uses the template a handler named (the gateway proxy)', () => {
    const req = request('GET', '/api/v1/threads/7f0c…/messages');
    setRouteTemplate(req, '/api/v1/threads/{id}/messages');
    expect(routeTemplateOf(req)).toBe('/api/v1/threads/{id}/messages');
  });

  it.each([
    // refused before routing (identity, body limits): the route it would have reached
    ['POST', '/api/v1/documents', '/api/v1/documents'],
    ['GET', '/api/v1/documents/0b6e0c4e-6f5c-4c55-9d0e-3c1f4c2d8a11', '/api/v1/documents/{id}'],
    ['HEAD', '/api/v1/documents/0b6e0c4e-6f5c-4c55-9d0e-3c1f4c2d8a11/payload/', '/api/v1/documents/{id}/payload'],
    ['GET', '/internal/documents/d1/holders/official-7?x=y', '/internal/documents/{id}/holders/{officialId}'],
    // a method the path does not have: still the path's template
    ['DELETE', '/api/v1/documents/abc', '/api/v1/documents/{id}'],
    // no route at all: one fixed value
    ['GET', '/api/v1/documents/abc/unknown', 'none'],
    ['GET', '/wp-login.php', 'none'],
  ])('%s %s → %s', (method, url, template) => {
    expect(routeTemplateOf(request(method, url))).toBe(template);
  });

  it('writes route variables one way', () => {
    expect(normaliseRouteTemplate('/authorities/:id/routing-rules/:ruleId')).toBe('/authorities/{id}/routing-rules/{ruleId}');
  });
});
