import { createHmac, randomBytes } from 'node:crypto';
import { Body, Controller, Get, Module, Post, Req } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { Request } from 'express';
import request from 'supertest';
import { Identity, IdentityHeader } from '@dvd/contracts';
import { PlatformModule, identityVerification } from '../service/platform.module';
import { createServiceApp } from '../service/bootstrap';
import { generateDevIdentityKeys, parseSigningKey } from './identity-keys';
import { EMPTY_BODY_DIGEST, bodyDigest, signIdentity, streamedBody } from './identity-signature';
import { AllowRoles, CurrentIdentity } from './identity.guard';

const keys = generateDevIdentityKeys(`int-${randomBytes(3).toString('hex')}`);
const gateway = parseSigningKey(keys.gateway);
const communication = parseSigningKey(keys.services.communication);
const handled: string[] = [];

@Controller()
class ProbeController {
  @AllowRoles('citizen', 'official', 'platform-admin')
  @Get('api/v1/things')
  list(@CurrentIdentity() who: Identity) {
    handled.push('list');
    return who;
  }

  @AllowRoles('citizen', 'official', 'platform-admin')
  @Post('api/v1/things')
  create(@Body() body: unknown) {
    handled.push('create');
    return { body };
  }

  @AllowRoles('citizen')
  @Post('api/v1/raw')
  async raw(@Req() req: Request) {
    let bytes = 0;
    for await (const c of req as AsyncIterable<Buffer>) bytes += c.length;
    handled.push('raw');
    return { bytes };
  }

  @AllowRoles('service')
  @Get('internal/things')
  internal(@CurrentIdentity() who: Identity) {
    handled.push('internal');
    return who;
  }
}

const prefix = `dvd-identity-test-${randomBytes(4).toString('hex')}:`;
const config = {
  IDENTITY_VERIFY_KEYS: keys.verifyKeys,
  REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_KEY_PREFIX: prefix,
};

@Module({
  imports: [
    PlatformModule.forService({ service: 'identity-test', logLevel: 'silent', ...identityVerification(config, ['communication']) }),
  ],
  controllers: [ProbeController],
})
class ProbeModule {}

const citizen: Identity = { userId: 'alice', role: 'citizen', authorityId: null, requestId: 'r1' };
const platformAdmin: Identity = { userId: 'pa', role: 'platform-admin', authorityId: 'platform', requestId: 'r2' };
const asService: Identity = { userId: 'communication', role: 'service', authorityId: null, requestId: 'r3' };

describe('signed identity at a service (real Nest apps, two replicas on a real Redis)', () => {
  let a: NestExpressApplication;
  let b: NestExpressApplication;

  beforeAll(async () => {
    a = await createServiceApp({ module: ProbeModule }, { jsonLimit: '1mb' });
    b = await createServiceApp({ module: ProbeModule }, { jsonLimit: '1mb' });
    await Promise.all([a.init(), b.init()]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });
  beforeEach(() => {
    handled.length = 0;
  });

  const json = (o: unknown) => JSON.stringify(o);

  it('accepts the gateway-signed identity (happy path)', async () => {
    const res = await request(a.getHttpServer())
      .get('/api/v1/things?x=1')
      .set(signIdentity(gateway, citizen, 'GET', '/api/v1/things?x=1'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(citizen);
  });

  it('refuses a replayed signature, on the same replica and on another', async () => {
    const h = signIdentity(gateway, citizen, 'GET', '/api/v1/things');
    expect((await request(a.getHttpServer()).get('/api/v1/things').set(h)).status).toBe(200);
    const again = await request(a.getHttpServer()).get('/api/v1/things').set(h);
    expect(again.status).toBe(401);
    expect(again.headers['content-type']).toMatch(/problem\+json/);
    expect((await request(b.getHttpServer()).get('/api/v1/things').set(h)).status).toBe(401);
    expect(handled).toEqual(['list']);
  });

  it('accepts a JSON body it was signed for, and refuses one changed after signing', async () => {
    const body = json({ amount: 10, to: 'a1' });
    const ok = await request(a.getHttpServer())
      .post('/api/v1/things')
      .set(signIdentity(gateway, citizen, 'POST', '/api/v1/things', bodyDigest(body)))
      .set('Content-Type', 'application/json')
      .send(body);
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ body: { amount: 10, to: 'a1' } });

    const changed = json({ amount: 99, to: 'a1' }); // same length, other content
    const res = await request(a.getHttpServer())
      .post('/api/v1/things')
      .set(signIdentity(gateway, citizen, 'POST', '/api/v1/things', bodyDigest(body)))
      .set('Content-Type', 'application/json')
      .send(changed);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(JSON.stringify(res.body)).not.toContain('99');
    expect(handled).toEqual(['create']);
  });

  it('refuses a body sent where the signature says there is none, and a changed body of another type', async () => {
    const none = await request(a.getHttpServer())
      .post('/api/v1/things')
      .set(signIdentity(gateway, citizen, 'POST', '/api/v1/things', EMPTY_BODY_DIGEST))
      .set('Content-Type', 'application/json')
      .send(json({ smuggled: true }));
    expect(none.status).toBe(401);
    const text = await request(a.getHttpServer())
      .post('/api/v1/raw')
      .set(signIdentity(gateway, citizen, 'POST', '/api/v1/raw', bodyDigest('hello')))
      .set('Content-Type', 'text/plain')
      .send('HELLO');
    expect(text.status).toBe(401);
    expect(handled).toEqual([]);
  });

  it('lets a streamed multipart body through only with the length and content type it was signed for', async () => {
    const type = 'multipart/form-data; boundary=xyz';
    const body = Buffer.alloc(5000, 1);
    const ok = await request(a.getHttpServer())
      .post('/api/v1/raw')
      .set(signIdentity(gateway, citizen, 'POST', '/api/v1/raw', streamedBody(type, body.length)))
      .set('Content-Type', type)
      .send(body);
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ bytes: 5000 });
    const otherType = await request(a.getHttpServer())
      .post('/api/v1/raw')
      .set(signIdentity(gateway, citizen, 'POST', '/api/v1/raw', streamedBody(type, body.length)))
      .set('Content-Type', 'multipart/form-data; boundary=abc')
      .send(body);
    expect(otherType.status).toBe(401);
    const otherLength = await request(a.getHttpServer())
      .post('/api/v1/raw')
      .set(signIdentity(gateway, citizen, 'POST', '/api/v1/raw', streamedBody(type, body.length)))
      .set('Content-Type', type)
      .send(Buffer.alloc(6000, 1));
    expect(otherLength.status).toBe(401);
    // a streamed binding cannot carry a JSON body past the digest
    const jsonBody = json({ a: 1 });
    const smuggled = await request(a.getHttpServer())
      .post('/api/v1/things')
      .set(signIdentity(gateway, citizen, 'POST', '/api/v1/things', streamedBody('application/json', jsonBody.length)))
      .set('Content-Type', 'application/json')
      .send(jsonBody);
    expect(smuggled.status).toBe(401);
    expect(handled).toEqual(['raw']);
  });

  it('refuses identity headers of the old shared-secret HMAC scheme', async () => {
    const secret = 'local-dev-only-internal-auth-secret-0123456789';
    const ts = String(Math.floor(Date.now() / 1000));
    const text = ['v1', 'pa', 'platform-admin', 'platform', 'r9', 'GET', '/api/v1/things', ts].join('\n');
    const res = await request(a.getHttpServer())
      .get('/api/v1/things')
      .set({
        [IdentityHeader.userId]: 'pa',
        [IdentityHeader.role]: 'platform-admin',
        [IdentityHeader.authorityId]: 'platform',
        [IdentityHeader.requestId]: 'r9',
        [IdentityHeader.timestamp]: ts,
        [IdentityHeader.signature]: createHmac('sha256', secret).update(text).digest('base64url'),
      });
    expect(res.status).toBe(401);
    expect(handled).toEqual([]);
  });

  it('refuses a service key claiming a platform admin, and a service on a public route', async () => {
    const forged = await request(a.getHttpServer())
      .get('/api/v1/things')
      .set(signIdentity(communication, platformAdmin, 'GET', '/api/v1/things'));
    expect(forged.status).toBe(401);
    const ownOnPublic = await request(a.getHttpServer())
      .get('/api/v1/things')
      .set(signIdentity(communication, asService, 'GET', '/api/v1/things'));
    expect(ownOnPublic.status).toBe(401);
    expect(handled).toEqual([]);
  });

  it('accepts a listed calling service, as itself, on an internal route', async () => {
    const res = await request(a.getHttpServer())
      .get('/internal/things')
      .set(signIdentity(communication, asService, 'GET', '/internal/things'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(asService);
    const exportWorker = parseSigningKey(keys.services['export-worker']);
    const unlisted = await request(a.getHttpServer())
      .get('/internal/things')
      .set(signIdentity(exportWorker, { ...asService, userId: 'export-worker' }, 'GET', '/internal/things'));
    expect(unlisted.status).toBe(401);
    expect(handled).toEqual(['internal']);
  });
});
