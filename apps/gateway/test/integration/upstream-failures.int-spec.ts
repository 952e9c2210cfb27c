import { once } from 'node:events';
import { IncomingMessage, Server, ServerResponse, createServer, get as httpGet } from 'node:http';
import { AddressInfo } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { SignJWT } from 'jose';
import request from 'supertest';
import { TEST_REDIS_URL, freePort, testIdentityEnv, uniqueName } from '@dvd/testing';
import { gatewayConfigSchema } from '../../src/gateway.config';
import { createGatewayApp } from '../../src/main';
import { jwksServer, keyPair } from './gateway-fixtures';

/** Listens on a free loopback port; returns the base URL. */
async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('gateway: one upstream failure, one status and problem type (real gateway, real sockets)', () => {
  const servers: Server[] = [];
  let app: INestApplication;
  let token: string;
  let hangingRequestSeen: () => void;
  const hangingSeen = new Promise<void>((r) => (hangingRequestSeen = r));
  /** Answers of the streaming service that began: the first kilobyte sent, the rest held back. */
  const downloads: Array<(answer: ServerResponse) => void> = [];
  const nextDownload = () => new Promise<ServerResponse>((r) => downloads.push(r));

  beforeAll(async () => {
    const key = await keyPair('RS256', 'c1');
    const jwks = await jwksServer([key]);
    // resets the connection once the request arrived, before any answer
    const resetting = createServer((req) => req.socket.destroy());
    // never answers: the gateway's UPSTREAM_TIMEOUT_MS must end the wait
    const hanging = createServer(() => hangingRequestSeen());
    // starts a download and holds the rest back; `?die` drops the connection after the first kilobyte
    const streaming = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(1024), () => {
        if (req.url?.endsWith('?die')) return void req.socket.destroy();
        downloads.shift()?.(res);
      });
    });
    servers.push(jwks.server, resetting, hanging, streaming);
    const config = gatewayConfigSchema.parse({
      LOG_LEVEL: 'silent',
      ...testIdentityEnv('gateway'),
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: `${uniqueName('up')}:`,
      CITIZEN_ISSUER: 'https://bundid.test',
      CITIZEN_JWKS_URI: jwks.url,
      OFFICIAL_ISSUER: 'https://idp.test',
      OFFICIAL_JWKS_URI: jwks.url,
      INTAKE_URL: `http://127.0.0.1:${await freePort()}`, // nothing listens: refused
      COMMUNICATION_URL: await listen(resetting),
      EXPORT_WORKER_URL: await listen(hanging),
      ROUTING_ENGINE_URL: await listen(streaming),
      UPSTREAM_TIMEOUT_MS: '1000',
    });
    app = await createGatewayApp(config);
    await app.init();
    token = await new SignJWT({})
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer('https://bundid.test')
      .setAudience('dvd-api')
      .setSubject('citizen-up')
      .setExpirationTime('5m')
      .sign(key.privateKey);
  });

  afterAll(async () => {
    await app?.close();
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  const get = (path: string) => request(app.getHttpServer()).get(`/api/v1${path}`).set('Authorization', `Bearer ${token}`);

  function expectUnavailable(res: request.Response) {
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(res.body).toMatchObject({ status: 503, type: expect.stringMatching(/\/problems\/upstream-unavailable$/) });
  }

  it('answers a refused connection with 503 upstream-unavailable and Retry-After', async () => {
    expectUnavailable(await get('/documents'));
  });

  it('answers a connection reset before any answer with the same 503 upstream-unavailable', async () => {
    expectUnavailable(await get('/threads'));
    // also for a request with a body (an upload cut off by a crashing service)
    const upload = await request(app.getHttpServer())
      .post('/api/v1/documents/00000000-0000-4000-8000-000000000000/threads')
      .set('Authorization', `Bearer ${token}`)
      .send({ type: 'CHAT' });
    expectUnavailable(upload);
  });

  it('answers an upstream that does not answer in time with 504 upstream-timeout', async () => {
    const res = await get('/exports/00000000-0000-4000-8000-000000000000');
    await hangingSeen;
    expect(res.status).toBe(504);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 504, type: expect.stringMatching(/\/problems\/upstream-timeout$/) });
  });

  /** A GET straight to the gateway's socket (supertest would buffer the answer). */
  async function getRaw(path: string) {
    const server = app.getHttpServer() as Server;
    if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    return httpGet({ host: '127.0.0.1', port, path: `/api/v1${path}`, headers: { authorization: `Bearer ${token}` } });
  }

  it("stops the service's answer when the client leaves during a download", async () => {
    const answer = nextDownload();
    const req = await getRaw('/authorities');
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.statusCode).toBe(200);
    await once(res, 'data');
    const upstream = await answer;
    req.destroy();
    if (!upstream.destroyed) await once(upstream, 'close');
    expect(upstream.writableFinished).toBe(false);
  });

  it("never passes off a service's answer cut short as complete", async () => {
    const req = await getRaw('/authorities?die');
    const outcome = await new Promise<string>((resolve) => {
      req.once('error', () => resolve('no answer'));
      req.once('response', (res: IncomingMessage) => {
        res.on('error', () => undefined);
        res.resume();
        res.once('close', () => resolve(res.complete ? 'complete' : `incomplete ${res.statusCode}`));
      });
    });
    expect(outcome).toBe('incomplete 200');
  });
});
