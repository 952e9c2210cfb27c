import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, request as httpRequest } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { KeyLike, SignJWT, decodeJwt, exportSPKI } from 'jose';
import request from 'supertest';
import { ConfigError, EMPTY_BODY_DIGEST, MAX_DIGESTED_BODY_BYTES, bodyDigest, streamedBody, verifyIdentity } from '@dvd/platform';
import { TEST_IDENTITY_KEYS, testIdentityEnv, verifyKeysOf, TEST_REDIS_URL, freePort, pollUntil, uniqueName } from '@dvd/testing';
import { AuthenticationError, JwtVerifier } from '../../src/auth/jwt-verifier';
import { gatewayConfigSchema, loadGatewayConfig } from '../../src/gateway.config';
import { echoUpstream, jwksServer, keyPair } from './gateway-fixtures';
import { createGatewayApp } from '../../src/main';

const AUD = 'dvd-api';
const CITIZEN_ISS = 'https://bundid.test/citizen';
const OFFICIAL_ISS = 'https://idp.test/official';

describe('gateway authentication (real gateway, real JWKS servers)', () => {
  let app: INestApplication;
  let citizenKey: Awaited<ReturnType<typeof keyPair>>;
  let officialKey: Awaited<ReturnType<typeof keyPair>>;
  let attackerKey: Awaited<ReturnType<typeof keyPair>>;
  let citizenEcKey: Awaited<ReturnType<typeof keyPair>>;
  let officialRsaKey: Awaited<ReturnType<typeof keyPair>>;
  let citizenJwks: Awaited<ReturnType<typeof jwksServer>>;
  let officialJwks: Awaited<ReturnType<typeof jwksServer>>;
  let attackerJwks: Awaited<ReturnType<typeof jwksServer>>;
  let upstream: Awaited<ReturnType<typeof echoUpstream>>;
  let deadPort: number;
  const servers: Server[] = [];

  async function sign(
    claims: Record<string, unknown>,
    o: {
      key?: { privateKey: KeyLike; kid: string; alg: string };
      header?: Record<string, unknown>;
      iss?: string;
      aud?: string;
      exp?: number | string;
    } = {},
  ) {
    const key = o.key ?? citizenKey;
    const jwt = new SignJWT({ ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...o.header })
      .setIssuer(o.iss ?? CITIZEN_ISS)
      .setAudience(o.aud ?? AUD)
      .setIssuedAt();
    if (o.exp !== undefined) jwt.setExpirationTime(o.exp);
    else jwt.setExpirationTime('5m');
    return jwt.sign(key.privateKey);
  }

  const citizenToken = (sub = 'citizen-1') => sign({ sub });
  const officialToken = (scope?: string, authority = 'a1', sub = 'official-1') =>
    sign({ sub, authority_id: authority, ...(scope ? { scope } : {}) }, { key: officialKey, iss: OFFICIAL_ISS });

  beforeAll(async () => {
    citizenKey = await keyPair('RS256', 'citizen-k1');
    officialKey = await keyPair('ES256', 'official-k1');
    attackerKey = await keyPair('RS256', 'citizen-k1'); // same kid as the real key
    // published by the issuers but with algorithms not pinned for them
    citizenEcKey = await keyPair('ES256', 'citizen-ec');
    officialRsaKey = await keyPair('RS256', 'official-rsa');
    citizenJwks = await jwksServer([citizenKey, citizenEcKey]);
    officialJwks = await jwksServer([officialKey, officialRsaKey]);
    attackerJwks = await jwksServer([attackerKey]);
    upstream = await echoUpstream();
    servers.push(citizenJwks.server, officialJwks.server, attackerJwks.server, upstream.server);
    deadPort = await freePort();
    app = await createGatewayApp(gatewayConfig(citizenJwks.url));
    await app.init();
  });

  /** The gateway's configuration, its citizen keys served by `citizenJwksUrl`. */
  function gatewayConfig(citizenJwksUrl: string) {
    return gatewayConfigSchema.parse({
      LOG_LEVEL: 'silent',
      ...testIdentityEnv('gateway'),
      REDIS_URL: TEST_REDIS_URL,
      CITIZEN_ISSUER: CITIZEN_ISS,
      CITIZEN_JWKS_URI: citizenJwksUrl,
      OFFICIAL_ISSUER: OFFICIAL_ISS,
      OFFICIAL_JWKS_URI: officialJwks.url,
      INTAKE_URL: upstream.url,
      COMMUNICATION_URL: upstream.url,
      ROUTING_ENGINE_URL: upstream.url,
      EXPORT_WORKER_URL: `http://127.0.0.1:${deadPort}`,
      JWKS_COOLDOWN_MS: '1000',
      RATE_LIMIT_CITIZEN_PER_MIN: '100000',
      REDIS_KEY_PREFIX: `${uniqueName('gw')}:`,
      MAX_UPLOAD_BYTES: String(30 * 1024 * 1024),
      CITIZEN_JWT_ALGORITHMS: 'RS256,PS256',
      OFFICIAL_JWT_ALGORITHMS: 'ES256',
      CITIZEN_JWT_TYPES: 'JWT,at+jwt',
      OFFICIAL_JWT_TYPES: 'at+jwt,JWT',
    });
  }

  /**
   * A gateway of its own whose JWKS cache is cold, with a citizen key server of its own: for
   * tests about fetching keys, so that no other test's fetches (or their cooldown) count.
   */
  async function withOwnGateway(test: (o: { gateway: INestApplication; jwks: Awaited<ReturnType<typeof jwksServer>> }) => Promise<void>) {
    const jwks = await jwksServer([citizenKey, citizenEcKey]);
    const gateway = await createGatewayApp(gatewayConfig(jwks.url));
    try {
      await gateway.init();
      await test({ gateway, jwks });
    } finally {
      await gateway.close();
      jwks.server.closeAllConnections();
      jwks.server.close();
    }
  }

  afterAll(async () => {
    await app?.close();
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  async function expect401(token: string | null, extra: Record<string, string> = {}) {
    const req = request(app.getHttpServer()).get('/api/v1/documents').set(extra);
    if (token !== null) req.set('Authorization', `Bearer ${token}`);
    const res = await req;
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 401, type: expect.stringContaining('/problems/unauthorized') });
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/); // never a stack trace
    return res;
  }

  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const future = () => Math.floor(Date.now() / 1000) + 300;

  it('refuses a request without a token', async () => {
    const res = await expect401(null);
    expect(res.headers['www-authenticate']).toContain('Bearer');
  });

  it.each(['not-a-jwt', 'a.b.c', 'Basic abc', '....'])('refuses the malformed token %p', async (token) => {
    await expect401(token);
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])('refuses alg %p', async (alg) => {
    const token = `${b64({ alg, typ: 'JWT', kid: 'citizen-k1' })}.${b64({ sub: 'x', iss: CITIZEN_ISS, aud: AUD, exp: future() })}.`;
    await expect401(token);
  });

  it('refuses HS256 signed with the RSA public key (algorithm confusion)', async () => {
    const pem = await exportSPKI(citizenKey.publicKey);
    const token = await new SignJWT({ sub: 'x' })
      .setProtectedHeader({ alg: 'HS256', kid: 'citizen-k1' })
      .setIssuer(CITIZEN_ISS)
      .setAudience(AUD)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(pem));
    await expect401(token);
  });

  it('refuses an algorithm the issuer is not pinned to, even with a key the issuer publishes (RFC 8725 §3.1)', async () => {
    const hits = citizenJwks.state.hits + officialJwks.state.hits;
    await expect401(await sign({ sub: 'x' }, { key: citizenEcKey }));
    await expect401(await sign({ sub: 'o', authority_id: 'a1' }, { key: officialRsaKey, iss: OFFICIAL_ISS }));
    expect(citizenJwks.state.hits + officialJwks.state.hits).toBe(hits); // refused before any key lookup
    // the pinned algorithms pass
    const ok = await request(app.getHttpServer())
      .get('/api/v1/documents')
      .set('Authorization', `Bearer ${await officialToken()}`);
    expect(ok.status).toBe(200);
  });

  it.each([['JWS'], ['dpop+jwt'], ['secevent+jwt'], ['application/jwe'], [undefined]])(
    'refuses a token of typ %p (RFC 8725 §3.11)',
    async (typ) => {
      await expect401(await sign({ sub: 'x' }, { header: { typ } }));
    },
  );

  it.each(['JWT', 'jwt', 'at+jwt', 'application/at+JWT'])('accepts typ %p (RFC 9068 access tokens too)', async (typ) => {
    const res = await request(app.getHttpServer())
      .get('/api/v1/documents')
      .set('Authorization', `Bearer ${await sign({ sub: 'x' }, { header: { typ } })}`);
    expect(res.status).toBe(200);
  });

  it('refuses an expired token, beyond the clock leeway', async () => {
    await expect401(await sign({ sub: 'x' }, { exp: Math.floor(Date.now() / 1000) - 120 }));
  });

  it('honours nbf: refused in the future, accepted within the leeway', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect401(await sign({ sub: 'x', nbf: now + 600 }));
    const ok = await request(app.getHttpServer())
      .get('/api/v1/documents')
      .set('Authorization', `Bearer ${await sign({ sub: 'x', nbf: now + 10 })}`);
    expect(ok.status).toBe(200);
  });

  it('refuses a wrong issuer and a wrong audience', async () => {
    await expect401(await sign({ sub: 'x' }, { iss: 'https://evil.test/citizen' }));
    await expect401(await sign({ sub: 'x' }, { aud: 'another-api' }));
  });

  it('refuses tokens without sub or exp, and official tokens without authority_id', async () => {
    await expect401(await sign({}));
    const noExp = await new SignJWT({ sub: 'x' })
      .setProtectedHeader({ alg: 'RS256', kid: 'citizen-k1' })
      .setIssuer(CITIZEN_ISS)
      .setAudience(AUD)
      .sign(citizenKey.privateKey);
    await expect401(noExp);
    await expect401(await sign({ sub: 'o' }, { key: officialKey, iss: OFFICIAL_ISS }));
  });

  it('refuses an unknown kid and a token signed by another key under a known kid', async () => {
    const stranger = await keyPair('RS256', 'stranger');
    await expect401(await sign({ sub: 'x' }, { key: stranger }));
    await expect401(await sign({ sub: 'x' }, { key: attackerKey }));
  });

  it.each(['jku', 'x5u', 'jwk'])('refuses a %s header pointing elsewhere and never fetches it', async (param) => {
    const before = attackerJwks.state.hits;
    const value = param === 'jwk' ? attackerKey.jwk : attackerJwks.url;
    await expect401(await sign({ sub: 'x' }, { key: attackerKey, header: { [param]: value } }));
    // even a token signed by the real key is refused when it carries such a header
    await expect401(await sign({ sub: 'x' }, { header: { [param]: value } }));
    expect(attackerJwks.state.hits).toBe(before);
  });

  it('rate-limits JWKS refetches caused by a flood of unknown kids', async () => {
    const strangers = await Promise.all(Array.from({ length: 25 }, (_, i) => keyPair('RS256', `flood-${i}`)));
    await withOwnGateway(async ({ gateway, jwks }) => {
      for (const key of strangers) {
        const res = await request(gateway.getHttpServer())
          .get('/api/v1/documents')
          .set('Authorization', `Bearer ${await sign({ sub: 'x' }, { key })}`);
        expect(res.status).toBe(401);
      }
      // the first unknown kid fetches the keys (the cache is cold); within the cooldown no other refetches
      expect(jwks.state.hits).toBeGreaterThanOrEqual(1);
      expect(jwks.state.hits).toBeLessThanOrEqual(2);
    });
  });

  it('picks up a rotated key: an unknown kid refetches the JWKS after the cooldown', async () => {
    const rotated = await keyPair('PS256', 'citizen-k2');
    await withOwnGateway(async ({ gateway, jwks }) => {
      const get = async (token: string) =>
        request(gateway.getHttpServer()).get('/api/v1/documents').set('Authorization', `Bearer ${token}`);
      expect((await get(await citizenToken('before-rotation'))).status).toBe(200); // the old set is cached
      jwks.state.keys = [citizenKey.jwk, rotated.jwk];
      const token = await sign({ sub: 'rotated-user' }, { key: rotated });
      const res = await pollUntil(
        async () => {
          const r = await get(token);
          return r.status === 200 ? r : null;
        },
        { timeoutMs: 5_000, intervalMs: 300 },
      );
      expect(res.body.headers['x-user-id']).toBe('rotated-user');
    });
  });

  it.each([
    ['citizen', () => citizenToken('alice'), { id: 'alice', role: 'citizen', authority: '' }],
    ['official (default scope)', () => officialToken(undefined, 'a1', 'off-1'), { id: 'off-1', role: 'official', authority: 'a1' }],
    ['official', () => officialToken('openid dvd:official', 'a1', 'off-2'), { id: 'off-2', role: 'official', authority: 'a1' }],
    ['admin', () => officialToken('dvd:admin', 'a2', 'adm-1'), { id: 'adm-1', role: 'admin', authority: 'a2' }],
    [
      'platform-admin',
      () => officialToken('dvd:platform-admin', 'platform', 'pa-1'),
      { id: 'pa-1', role: 'platform-admin', authority: 'platform' },
    ],
  ])('stamps the signed identity of a %s downstream', async (_name, token, expected) => {
    const jwt = await token();
    const res = await request(app.getHttpServer())
      .get('/api/v1/documents?limit=5')
      .set('Authorization', `Bearer ${jwt}`)
      .set('X-User-Id', 'mallory')
      .set('X-User-Role', 'platform-admin')
      .set('X-Authority-Id', 'other')
      .set('X-Identity-Signature', 'forged')
      .set('X-Request-Id', 'client-req-1');
    expect(res.status).toBe(200);
    const h = res.body.headers as Record<string, string>;
    expect(h['x-user-id']).toBe(expected.id);
    expect(h['x-user-role']).toBe(expected.role);
    expect(h['x-authority-id']).toBe(expected.authority);
    expect(h['x-request-id']).toBe('client-req-1');
    expect(h.authorization).toBeUndefined(); // the token stays at the edge
    expect(res.headers['x-request-id']).toBe('client-req-1');
    // towards intake the gateway signs with the secret it shares with intake alone (ADR 0025)
    expect(h['x-identity-key-id']).toBe(TEST_IDENTITY_KEYS.hmac!.intake.kid);
    expect(verifyIdentity(verifyKeysOf('communication'), h, 'GET', res.body.url)).toBe('unknown-key');
    const verified = verifyIdentity(verifyKeysOf('intake'), h, 'GET', res.body.url);
    expect(typeof verified === 'string' ? verified : verified.signer).toBe('gateway');
    expect(typeof verified === 'string' ? verified : verified.body).toBe(EMPTY_BODY_DIGEST);
    expect(typeof verified === 'string' ? verified : verified.identity).toEqual({
      userId: expected.id,
      role: expected.role,
      authorityId: expected.authority || null,
      requestId: 'client-req-1',
      // the token's expiry, signed along (the event stream ends then, ADR 0021)
      expiresAt: decodeJwt(jwt).exp,
    });
    expect(h['x-identity-expires']).toBe(String(decodeJwt(jwt).exp));
  });

  it('replaces an insane client request id', async () => {
    const res = await request(app.getHttpServer())
      .get('/api/v1/documents')
      .set('Authorization', `Bearer ${await citizenToken()}`)
      .set('X-Request-Id', 'x'.repeat(300));
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers the gateway's request id and rate-limit headers once, over the service's own, and forwards the client's Host", async () => {
    const res = await request(app.getHttpServer())
      .get('/api/v1/documents')
      .set('Authorization', `Bearer ${await citizenToken()}`)
      .set('X-Request-Id', 'client-req-2')
      .set('X-Echo-Own-Ids', '1');
    expect(res.status).toBe(200);
    // one value each (a duplicate would arrive joined: "a, b")
    expect(res.headers['x-request-id']).toBe('client-req-2');
    expect(res.headers['ratelimit-limit']).toMatch(/^\d+$/);
    expect(res.headers['ratelimit-limit']).not.toBe('999999');
    expect(res.headers['ratelimit-remaining']).toMatch(/^\d+$/);
    expect(res.headers['content-type']).toBe('application/json');
    const h = res.body.headers as Record<string, string>;
    expect(h.host).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('forwards the public receipt keys without a token and without any identity, dropping what the client sent', async () => {
    const res = await request(app.getHttpServer())
      .get('/.well-known/jwks.json')
      .set('Authorization', 'Bearer whatever')
      .set('X-User-Role', 'platform-admin')
      .set('X-Identity-Signature', 'forged')
      .set('X-Request-Id', 'jwks-req-1');
    expect(res.status).toBe(200);
    expect(res.body.url).toBe('/.well-known/jwks.json');
    const h = res.body.headers as Record<string, string>;
    expect(h.authorization).toBeUndefined();
    expect(h['x-user-role']).toBeUndefined();
    expect(h['x-user-id']).toBeUndefined();
    expect(h['x-identity-signature']).toBeUndefined();
    expect(h['x-request-id']).toBe('jwks-req-1');
    expect(res.headers['x-request-id']).toBe('jwks-req-1');
    expect(res.headers['ratelimit-limit']).toBeUndefined();
    // nothing else is public: other methods, a body, other root paths
    expect((await request(app.getHttpServer()).post('/.well-known/jwks.json')).status).toBe(404);
    expect(
      (await request(app.getHttpServer()).get('/.well-known/jwks.json').set('content-type', 'application/json').send('{}')).status,
    ).toBe(400);
    expect((await request(app.getHttpServer()).get('/.well-known/openid-configuration')).status).toBe(404);
    expect((await request(app.getHttpServer()).get('/api/v1/.well-known/jwks.json')).status).toBe(401);
  });

  it('answers unknown routes with 404 and a dead upstream with 503, as problem+json', async () => {
    const token = await officialToken();
    const missing = await request(app.getHttpServer()).get('/api/v1/nothing-here').set('Authorization', `Bearer ${token}`);
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/problem\+json/);
    const dead = await request(app.getHttpServer()).get(`/api/v1/exports/${randomUUID()}`).set('Authorization', `Bearer ${token}`);
    expect(dead.status).toBe(503);
    expect(dead.body.type).toContain('upstream-unavailable');
  });

  it('forwards the request target byte for byte, as it signed it', async () => {
    // a backslash, which url.parse (http-proxy's default) turns into a slash; Node's parser lets it through;
    // sent raw (supertest would escape them itself)
    const target = '/api/v1/documents/a\\b?q=%5C';
    const server = app.getHttpServer() as Server;
    if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const token = await citizenToken();
    const answer = await new Promise<{ status: number; body: { url: string; headers: Record<string, string> } }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: target, headers: { authorization: `Bearer ${token}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(200);
    expect(answer.body.url).toBe(target);
    const verified = verifyIdentity(verifyKeysOf('intake'), answer.body.headers, 'GET', target);
    expect(typeof verified === 'string' ? verified : verified.signer).toBe('gateway');
  });

  it('sends a POST without a body on as one of length 0, not chunked', async () => {
    // sent raw: Node's own client would add the Content-Length itself
    const server = app.getHttpServer() as Server;
    if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const token = await citizenToken();
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () =>
        socket.write(
          `POST /api/v1/documents/${randomUUID()}/reroute HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
            `Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
        ),
      );
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
      socket.on('error', reject);
    });
    expect(raw.startsWith('HTTP/1.1 200')).toBe(true);
    const seen = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { method: string; bytes: number; headers: Record<string, string> };
    expect(seen.method).toBe('POST');
    expect(seen.bytes).toBe(0);
    expect(seen.headers['content-length']).toBe('0');
    expect(seen.headers['transfer-encoding']).toBeUndefined();
  });

  it('keeps hop-by-hop headers on their hop, both ways (RFC 9110 §7.6.1)', async () => {
    const res = await request(app.getHttpServer())
      .get('/api/v1/documents')
      .set({
        Authorization: `Bearer ${await citizenToken()}`,
        Connection: 'keep-alive, x-client-hop',
        'X-Client-Hop': 'hop',
        'Keep-Alive': 'timeout=5',
        TE: 'trailers',
        'X-Echo-Hop': '1',
      });
    expect(res.status).toBe(200);
    const h = res.body.headers as Record<string, string>;
    expect([h['x-client-hop'], h['keep-alive'], h.te]).toEqual([undefined, undefined, undefined]);
    expect(h['x-echo-hop']).toBe('1'); // an end-to-end header goes on
    expect(res.headers['x-upstream-hop']).toBeUndefined();
    expect(res.headers['x-upstream-end']).toBe('end');
  });

  it('streams a multipart body through unchanged, its signature bound to length and content type', async () => {
    const body = Buffer.alloc(20 * 1024 * 1024, 7);
    body.write('begin', 0);
    const type = 'multipart/form-data; boundary=----dvd-test';
    const res = await request(app.getHttpServer())
      .post('/api/v1/documents')
      .set('Authorization', `Bearer ${await citizenToken()}`)
      .set('Content-Type', type)
      .send(body);
    expect(res.status).toBe(200);
    expect(res.body.bytes).toBe(body.length);
    expect(res.body.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(res.body.headers['x-identity-body']).toBe(streamedBody(type, body.length));
  });

  it('signs the sha-256 of any other body and forwards exactly the bytes it hashed', async () => {
    const body = JSON.stringify({ metadata: { authorityId: 'a1' }, encryptedPayload: 'QUJD' });
    const res = await request(app.getHttpServer())
      .post('/api/v1/documents')
      .set('Authorization', `Bearer ${await citizenToken()}`)
      .set('Content-Type', 'application/json')
      .send(body);
    expect(res.status).toBe(200);
    expect(res.body.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(res.body.headers['x-identity-body']).toBe(bodyDigest(body));
    expect(res.body.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  });

  it('refuses a body it would have to hash above 10 MiB, before reading or forwarding it', async () => {
    const before = upstream.received.length;
    const server = app.getHttpServer() as Server;
    if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const token = await citizenToken();
    // only the headers are sent: the declared length alone must be refused
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/v1/documents',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': String(MAX_DIGESTED_BODY_BYTES + 1),
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(status).toBe(413);
    expect(upstream.received.length).toBe(before);
  });

  it('refuses a declared body above MAX_UPLOAD_BYTES before forwarding it', async () => {
    const before = upstream.received.length;
    const res = await request(app.getHttpServer())
      .post('/api/v1/documents')
      .set('Authorization', `Bearer ${await citizenToken()}`)
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.alloc(32 * 1024 * 1024));
    expect(res.status).toBe(413);
    expect(upstream.received.length).toBe(before);
  });

  it('serves the OpenAPI document of the whole public API: docs/openapi.json, generated from the contracts', async () => {
    const res = await request(app.getHttpServer()).get('/api/docs-json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/documents', '/threads/{id}/claim', '/exports', '/authorities/{id}/keys']),
    );
    const committed: unknown = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'openapi.json'), 'utf8'));
    expect(JSON.stringify(res.body, null, 2)).toBe(JSON.stringify(committed, null, 2));
    expect(res.body.openapi).toMatch(/^3\.1\.\d+$/);
    expect(Object.keys(res.body.webhooks)).toEqual(['exportPackage']);
    const html = await request(app.getHttpServer()).get('/api/docs');
    expect(html.status).toBe(200);
  });

  describe('when the IdP key endpoint fails', () => {
    const verifierFor = (jwksUrl: string, maxStaleMs: number) =>
      new JwtVerifier([{ issuer: CITIZEN_ISS, jwksUri: jwksUrl, kind: 'citizen', algorithms: ['RS256'], types: ['jwt'] }], AUD, 0, {
        cooldownMs: 1,
        cacheMaxAgeMs: 1,
        maxStaleMs,
      });
    const stop = (s: Server) => {
      s.closeAllConnections();
      return new Promise((r) => s.close(r));
    };
    const aged = () => new Promise((r) => setTimeout(r, 20)); // the cache (max age 1 ms) is stale by then

    it('keeps verifying with the last good keys while the endpoint is down, and refuses unknown keys meanwhile', async () => {
      const idp = await jwksServer([citizenKey]);
      const verifier = verifierFor(idp.url, 60 * 60_000);
      expect((await verifier.verify(await citizenToken('before'))).userId).toBe('before');
      await stop(idp.server);
      await aged();
      expect((await verifier.verify(await citizenToken('during'))).userId).toBe('during');
      expect((await verifier.verify(await citizenToken('still'))).userId).toBe('still');
      // a key nobody fetched does not verify from the stale set
      const stranger = await keyPair('RS256', 'never-published');
      await expect(verifier.verify(await sign({ sub: 'x' }, { key: stranger }))).rejects.toBeInstanceOf(AuthenticationError);
    });

    it('refuses once the last good keys are older than JWKS_MAX_STALE_MS', async () => {
      const idp = await jwksServer([citizenKey]);
      const verifier = verifierFor(idp.url, 50);
      expect((await verifier.verify(await citizenToken('before'))).userId).toBe('before');
      await stop(idp.server);
      await new Promise((r) => setTimeout(r, 80));
      await expect(verifier.verify(await citizenToken('after'))).rejects.toBeInstanceOf(AuthenticationError);
    });

    it('answers 401, not 500, when the endpoint was never reachable', async () => {
      const verifier = verifierFor(`http://127.0.0.1:${deadPort}/jwks.json`, 60 * 60_000);
      await expect(verifier.verify(await citizenToken())).rejects.toBeInstanceOf(AuthenticationError);
    });
  });

  describe('verified-token cache', () => {
    const stop = (s: Server) => {
      s.closeAllConnections();
      return new Promise((r) => s.close(r));
    };

    it('verifies a token once, answers it again from the cache, and refuses it once it expires', async () => {
      const idp = await jwksServer([citizenKey]);
      let now = Date.now();
      const verifier = new JwtVerifier(
        [{ issuer: CITIZEN_ISS, jwksUri: idp.url, kind: 'citizen', algorithms: ['RS256'], types: ['jwt'] }],
        AUD,
        5,
        { cooldownMs: 1_000, cacheMaxAgeMs: 10 * 60_000, maxStaleMs: 60 * 60_000 },
        () => now,
      );
      try {
        const token = await sign({ sub: 'cached' }, { exp: Math.floor(now / 1000) + 60 });
        for (let i = 0; i < 3; i++) expect((await verifier.verify(token)).userId).toBe('cached');
        // the first check fetches the keys (not remembered: no fresh key set before it), the second is remembered
        expect(verifier.fullVerifications).toBe(2);
        now += 64_000; // exp + leeway - 1 s: still valid
        expect((await verifier.verify(token)).userId).toBe('cached');
        expect(verifier.fullVerifications).toBe(2);
        now += 2_000; // past exp + leeway
        await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'token expired' });
        await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'token expired' });
      } finally {
        await stop(idp.server);
      }
    });

    it('refuses a cached token once its key is withdrawn from the JWKS and the keys are refetched', async () => {
      const idp = await jwksServer([citizenKey]);
      const verifier = new JwtVerifier(
        [{ issuer: CITIZEN_ISS, jwksUri: idp.url, kind: 'citizen', algorithms: ['RS256'], types: ['jwt'] }],
        AUD,
        0,
        { cooldownMs: 1, cacheMaxAgeMs: 300, maxStaleMs: 60 * 60_000 },
      );
      try {
        const token = await citizenToken('withdrawn');
        expect((await verifier.verify(token)).userId).toBe('withdrawn');
        expect((await verifier.verify(token)).userId).toBe('withdrawn');
        idp.state.keys = [officialRsaKey.jwk]; // the citizen key is gone
        const refused = await pollUntil(
          () =>
            verifier.verify(token).then(
              () => null,
              (err: unknown) => err,
            ),
          { timeoutMs: 10_000, intervalMs: 100, what: 'the withdrawn key to refuse the cached token' },
        );
        expect(refused).toBeInstanceOf(AuthenticationError);
        // and it stays refused
        await expect(verifier.verify(token)).rejects.toBeInstanceOf(AuthenticationError);
      } finally {
        await stop(idp.server);
      }
    });
  });

  describe('configuration', () => {
    const env = (over: Record<string, string>) => ({
      ...testIdentityEnv('gateway'),
      CITIZEN_ISSUER: CITIZEN_ISS,
      CITIZEN_JWKS_URI: 'https://bundid.test/jwks.json',
      OFFICIAL_ISSUER: OFFICIAL_ISS,
      OFFICIAL_JWKS_URI: 'https://idp.test/jwks.json',
      ...over,
    });

    it('refuses an http JWKS URI with NODE_ENV=production, naming the variable', () => {
      let error: unknown;
      try {
        loadGatewayConfig(env({ NODE_ENV: 'production', OFFICIAL_JWKS_URI: 'http://idp.test/jwks.json' }));
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['OFFICIAL_JWKS_URI']);
    });

    it('accepts https in production, http in development, and http in production only when allowed explicitly', () => {
      expect(loadGatewayConfig(env({ NODE_ENV: 'production' })).CITIZEN_JWT_ALGORITHMS).toEqual(['RS256', 'PS256', 'ES256']);
      expect(() => loadGatewayConfig(env({ NODE_ENV: 'development', CITIZEN_JWKS_URI: 'http://dev-idp/jwks.json' }))).not.toThrow();
      expect(() =>
        loadGatewayConfig(env({ NODE_ENV: 'production', CITIZEN_JWKS_URI: 'http://dev-idp/jwks.json', JWKS_ALLOW_HTTP: 'true' })),
      ).not.toThrow();
    });

    it.each(['HS256', 'none', 'RS256,HS256', ','])('refuses JWT algorithms %p (asymmetric only)', (algs) => {
      expect(() => loadGatewayConfig(env({ CITIZEN_JWT_ALGORITHMS: algs }))).toThrow(ConfigError);
    });
  });
});
