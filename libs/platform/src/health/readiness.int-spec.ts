import { Controller, Get, Module } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { BASE_AMQP_URL, BASE_DATABASE_URL, TcpProxy, createTestDatabase, createTestVhost, pollUntil, startTcpProxy } from '@dvd/testing';
import { Public } from '../auth-context/identity.guard';
import { createServiceApp } from '../service/bootstrap';
import { PlatformModule } from '../service/platform.module';

@Public()
@Controller('t')
class CountingController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}
  @Get('count')
  async count() {
    const rows: Array<{ n: number }> = await this.db.query('SELECT 1 AS n');
    return { n: rows[0].n };
  }
}

/**
 * A service like intake (database, event bus through the outbox), whose database and
 * broker are reached through TCP proxies that the test can take away. The shared
 * Postgres and RabbitMQ are never touched.
 */
describe('readiness tells the truth (real Postgres and RabbitMQ behind pausable proxies)', () => {
  let app: NestExpressApplication;
  let dbProxy: TcpProxy;
  let amqpProxy: TcpProxy;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    const vhost = await createTestVhost();
    cleanups.push(vhost.drop);
    const pg = new URL(BASE_DATABASE_URL);
    const amqp = new URL(BASE_AMQP_URL);
    dbProxy = await startTcpProxy({ host: pg.hostname, port: Number(pg.port || 5432) });
    amqpProxy = await startTcpProxy({ host: amqp.hostname, port: Number(amqp.port || 5672) });
    const dbUrl = new URL(db.url);
    dbUrl.port = String(dbProxy.port);
    const amqpUrl = new URL(vhost.url);
    amqpUrl.port = String(amqpProxy.port);

    @Module({
      imports: [
        PlatformModule.forService({
          service: 'readiness-test',
          logLevel: 'silent',
          database: { url: dbUrl.toString(), schema: 'readiness_test', entities: [], migrations: [] },
          messaging: { amqpUrl: amqpUrl.toString(), maxDeliveries: 3, relayEnabled: false },
        }),
      ],
      controllers: [CountingController],
    })
    class TestModule {}
    app = await createServiceApp({ module: TestModule });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await dbProxy?.close();
    await amqpProxy?.close();
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  const ready = () => request(app.getHttpServer()).get('/health/ready');

  it('is ready with every dependency up', async () => {
    const res = await ready();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', info: { database: { status: 'up' }, broker: { status: 'up' } } });
  });

  it('stays ready, reported as degraded, while the broker is down (events wait in the outbox)', async () => {
    await amqpProxy.pause();
    try {
      const res = await pollUntil(
        async () => {
          const r = await ready();
          return r.body?.info?.broker?.status === 'degraded' ? r : null;
        },
        { timeoutMs: 20_000, what: 'the broker check to turn degraded' },
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'degraded', info: { database: { status: 'up' }, broker: { status: 'degraded' } } });
      expect((await request(app.getHttpServer()).get('/t/count')).status).toBe(200);
    } finally {
      await amqpProxy.resume();
    }
    await pollUntil(async () => (await ready()).body?.status === 'ok', { timeoutMs: 30_000, what: 'the broker to be up again' });
  });

  it('is not ready while the database is down, shows no error text, and answers requests 503 + Retry-After', async () => {
    await dbProxy.pause();
    try {
      const res = await ready();
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'down', info: { database: { status: 'down' }, broker: { status: 'up' } } });
      // no driver messages, host names or ports
      expect(JSON.stringify(res.body)).not.toMatch(/ECONN|connect|terminated|127\.0\.0\.1|timeout/i);

      const req = await request(app.getHttpServer()).get('/t/count');
      expect(req.status).toBe(503);
      expect(req.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(req.headers['retry-after']).toMatch(/^\d+$/);
      expect(req.body.type).toMatch(/\/problems\/dependency-unavailable$/);
    } finally {
      await dbProxy.resume();
    }
    await pollUntil(async () => (await ready()).status === 200, { timeoutMs: 30_000, what: 'the database to be back' });
    expect((await request(app.getHttpServer()).get('/t/count')).body).toEqual({ n: 1 });
  });
});
