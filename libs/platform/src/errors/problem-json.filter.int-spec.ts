import { Body, Controller, Get, HttpException, Module, Post } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { z } from 'zod';
import { Public } from '../auth-context/identity.guard';
import { PlatformModule } from '../service/platform.module';
import { createServiceApp } from '../service/bootstrap';
import { ApiError } from './problem';
import { parseOrThrow } from './zod';

const schema = z.object({ referenceNumber: z.string().max(5), count: z.number().int() }).strict();

@Public()
@Controller('t')
class ThrowingController {
  @Get('api-error')
  apiError() {
    throw ApiError.conflict('thread-claimed', 'Another official holds this thread');
  }
  @Get('http-exception')
  httpException() {
    throw new HttpException('echo of input AZ-4711', 418);
  }
  @Get('crash')
  crash() {
    throw new Error('database said: value AZ-4711 violates constraint');
  }
  @Post('validate')
  validate(@Body() body: unknown) {
    return parseOrThrow(schema, body);
  }
}

@Module({ imports: [PlatformModule.forService({ service: 'errors-test', logLevel: 'silent' })], controllers: [ThrowingController] })
class TestModule {}

describe('problem+json answers (a real Nest app)', () => {
  let app: NestExpressApplication;

  beforeAll(async () => {
    app = await createServiceApp({ module: TestModule }, { jsonLimit: '1kb' });
    await app.init();
  });
  afterAll(() => app.close());

  const expectProblem = (res: request.Response, status: number) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      status,
      type: expect.stringMatching(/^https:\/\/direktvermittlung\.de\/problems\//),
      title: expect.any(String),
    });
    expect(JSON.stringify(res.body)).not.toContain('AZ-4711');
    expect(JSON.stringify(res.body)).not.toMatch(/\.ts:\d+/);
  };

  it('maps a domain error to its status and stable type', async () => {
    const res = await request(app.getHttpServer()).get('/t/api-error').set('X-Request-Id', 'req-42');
    expectProblem(res, 409);
    expect(res.body).toMatchObject({
      type: 'https://direktvermittlung.de/problems/thread-claimed',
      detail: 'Another official holds this thread',
      instance: '/t/api-error',
      requestId: 'req-42',
    });
  });

  it('keeps a framework exception status but never its message', async () => {
    expectProblem(await request(app.getHttpServer()).get('/t/http-exception'), 418);
  });

  it('answers an unexpected error with a generic 500 that echoes nothing', async () => {
    const res = await request(app.getHttpServer()).get('/t/crash');
    expectProblem(res, 500);
    expect(res.body.type).toContain('/internal');
  });

  it('lists every invalid field in errors[] without echoing values', async () => {
    const res = await request(app.getHttpServer())
      .post('/t/validate')
      .send({ referenceNumber: 'AZ-4711-too-long', count: 1.5, extra: true });
    expectProblem(res, 400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['count', 'extra', 'referenceNumber']);
  });

  it('answers malformed JSON with 400, an oversized body with 413, an unknown route with 404', async () => {
    expectProblem(
      await request(app.getHttpServer()).post('/t/validate').set('Content-Type', 'application/json').send('{"referenceNumber": "AZ-4711",'),
      400,
    );
    expectProblem(
      await request(app.getHttpServer())
        .post('/t/validate')
        .send({ referenceNumber: 'x'.repeat(2048) }),
      413,
    );
    expectProblem(await request(app.getHttpServer()).get('/t/nothing'), 404);
  });
});
