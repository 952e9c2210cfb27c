import { Server } from 'node:http';
import { INestApplication } from '@nestjs/common';
import { SignJWT } from 'jose';
import request from 'supertest';
import { testIdentityEnv, TEST_REDIS_URL, freePort, uniqueName } from '@dvd/testing';
import { gatewayConfigSchema } from '../../src/gateway.config';
import { createGatewayApp } from '../../src/main';
import { echoUpstream, jwksServer, keyPair } from './gateway-fixtures';

/** The samples of a Prometheus text page, labels as a map (their order in the text does not matter). */
function samples(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  return [...text.matchAll(/^([a-z_][a-z0-9_]*)(?:\{(.*)\})? (\S+)$/gm)].map((m) => ({
    name: m[1],
    labels: Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]])),
    value: Number(m[3]),
  }));
}

describe('rate limits (real gateways, real Redis)', () => {
  const servers: Server[] = [];
  const apps: INestApplication[] = [];
  let citizenKey: Awaited<ReturnType<typeof keyPair>>;
  let officialKey: Awaited<ReturnType<typeof keyPair>>;

  async function gateway(env: Record<string, string> = {}, prefix = `${uniqueName('rl')}:`) {
    const config = gatewayConfigSchema.parse({
      LOG_LEVEL: 'silent',
      ...testIdentityEnv('gateway'),
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      CITIZEN_ISSUER: 'https://bundid.test',
      CITIZEN_JWKS_URI: jwks.citizen,
      OFFICIAL_ISSUER: 'https://idp.test',
      OFFICIAL_JWKS_URI: jwks.official,
      INTAKE_URL: upstream,
      COMMUNICATION_URL: upstream,
      ROUTING_ENGINE_URL: upstream,
      EXPORT_WORKER_URL: upstream,
      RATE_LIMIT_CITIZEN_PER_MIN: '5',
      RATE_LIMIT_OFFICIAL_PER_MIN: '8',
      ...env,
    });
    const app = await createGatewayApp(config);
    await app.init();
    apps.push(app);
    return app;
  }

  const jwks = { citizen: '', official: '' };
  let upstream = '';

  const token = (kind: 'citizen' | 'official', sub: string) => {
    const key = kind === 'citizen' ? citizenKey : officialKey;
    return new SignJWT(kind === 'official' ? { authority_id: 'a1' } : {})
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(kind === 'citizen' ? 'https://bundid.test' : 'https://idp.test')
      .setAudience('dvd-api')
      .setSubject(sub)
      .setExpirationTime('5m')
      .sign(key.privateKey);
  };

  beforeAll(async () => {
    citizenKey = await keyPair('RS256', 'c1');
    officialKey = await keyPair('ES256', 'o1');
    const [c, o, up] = await Promise.all([jwksServer([citizenKey]), jwksServer([officialKey]), echoUpstream()]);
    servers.push(c.server, o.server, up.server);
    jwks.citizen = c.url;
    jwks.official = o.url;
    upstream = up.url;
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  it('shares one sliding window per user across two gateway replicas, with RateLimit headers and 429 + Retry-After', async () => {
    const prefix = `${uniqueName('shared')}:`;
    const [g1, g2] = [await gateway({}, prefix), await gateway({}, prefix)];
    const t = await token('citizen', 'alice');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await request((i % 2 ? g2 : g1).getHttpServer())
        .get('/api/v1/documents')
        .set('Authorization', `Bearer ${t}`);
      statuses.push(res.status);
      expect(res.headers['ratelimit-limit']).toBe('5');
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
      if (res.status === 200) expect(res.headers['ratelimit-remaining']).toBe(String(4 - i));
      else {
        expect(res.headers['ratelimit-remaining']).toBe('0');
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(50);
        expect(res.headers['content-type']).toMatch(/problem\+json/);
        expect(res.body.type).toContain('rate-limited');
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    // another citizen has their own window; officials have theirs, with their own limit
    expect(
      (
        await request(g2.getHttpServer())
          .get('/api/v1/documents')
          .set('Authorization', `Bearer ${await token('citizen', 'bob')}`)
      ).status,
    ).toBe(200);
    const official = await request(g1.getHttpServer())
      .get('/api/v1/documents')
      .set('Authorization', `Bearer ${await token('official', 'o-1')}`);
    expect(official.headers['ratelimit-limit']).toBe('8');

    // the refusal is counted, by role, on the replica that refused it, and labelled by the route asked for
    const metrics = async (app: INestApplication) => samples((await request(app.getHttpServer()).get('/metrics')).text);
    const [m1, m2] = [await metrics(g1), await metrics(g2)];
    expect(m2).toContainEqual({ name: 'dvd_rate_limit_rejections_total', labels: { role: 'citizen', service: 'gateway' }, value: 1 });
    expect(m1).toContainEqual({ name: 'dvd_rate_limit_rejections_total', labels: { role: 'citizen', service: 'gateway' }, value: 0 });
    expect(m1).toContainEqual({ name: 'dvd_rate_limit_rejections_total', labels: { role: 'official', service: 'gateway' }, value: 0 });
    expect(m2).toContainEqual({
      name: 'http_request_duration_seconds_count',
      labels: { method: 'GET', route: '/api/v1/documents', status: '4xx', service: 'gateway' },
      value: 1,
    });
  });

  it('labels its request metrics by the route template of the registry, never by the path', async () => {
    const g = await gateway();
    const server = g.getHttpServer();
    const id = '0b6e0c4e-6f5c-4c55-9d0e-3c1f4c2d8a11';
    expect((await request(server).get(`/api/v1/documents/${id}`)).status).toBe(401); // refused before proxying
    const t = await token('citizen', 'dora');
    expect((await request(server).get(`/api/v1/threads/${id}/messages?limit=5`).set('Authorization', `Bearer ${t}`)).status).toBe(200);
    expect((await request(server).get(`/api/v1/no/such/${id}`).set('Authorization', `Bearer ${t}`)).status).toBe(404);
    expect((await request(server).get('/.well-known/jwks.json')).status).toBe(200);
    const text = (await request(server).get('/metrics')).text;
    const routes = samples(text)
      .filter((m) => m.name === 'http_request_duration_seconds_count')
      .map((m) => `${m.labels.method} ${m.labels.route} ${m.labels.status}`);
    expect(routes).toEqual(
      expect.arrayContaining([
        'GET /api/v1/documents/{id} 4xx',
        'GET /api/v1/threads/{id}/messages 2xx',
        'GET none 4xx',
        'GET /.well-known/jwks.json 2xx',
      ]),
    );
    expect(text).not.toContain(id);
    expect(text).not.toContain('unmatched');
  });

  it('keeps limiting per replica when Redis is unreachable', async () => {
    const g = await gateway({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    const t = await token('citizen', 'carol');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await request(g.getHttpServer()).get('/api/v1/documents').set('Authorization', `Bearer ${t}`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    // still ready (Redis is optional for the gateway), but reported as degraded
    const ready = await request(g.getHttpServer()).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'degraded', info: { redis: { status: 'degraded' } } });
    const official = await token('official', 'o-2');
    for (let i = 0; i < 8; i++)
      expect((await request(g.getHttpServer()).get('/api/v1/documents').set('Authorization', `Bearer ${official}`)).status).toBe(200);
  });
});
