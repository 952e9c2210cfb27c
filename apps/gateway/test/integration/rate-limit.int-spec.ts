import { Server } from 'node:http';
import { INestApplication } from '@nestjs/common';
import { SignJWT } from 'jose';
import request from 'supertest';
import { testIdentityEnv, TEST_REDIS_URL, freePort, uniqueName } from '@dvd/testing';
import { gatewayConfigSchema } from '../../src/gateway.config';
import { createGatewayApp } from '../../src/main';
import { echoUpstream, jwksServer, keyPair } from './gateway-fixtures';

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
