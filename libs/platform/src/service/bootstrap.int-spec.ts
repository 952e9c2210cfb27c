import { request as httpRequest } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import { Controller, Get, Module } from '@nestjs/common';
import { Public } from '../auth-context/identity.guard';
import { PlatformModule } from './platform.module';
import { createServiceApp, drainAndClose } from './bootstrap';

/** A request handler that waits until the test opens its gate. */
class Gate {
  entered!: Promise<void>;
  private enter!: () => void;
  open!: () => void;
  private opened!: Promise<void>;
  constructor() {
    this.reset();
  }
  reset() {
    this.entered = new Promise((r) => (this.enter = r));
    this.opened = new Promise((r) => (this.open = r));
  }
  async pass() {
    this.enter();
    await this.opened;
  }
}
const gate = new Gate();

@Public()
@Controller('t')
class SlowController {
  @Get('slow')
  async slow() {
    await gate.pass();
    return { done: true };
  }
}

@Module({ imports: [PlatformModule.forService({ service: 'drain-test', logLevel: 'silent' })], controllers: [SlowController] })
class TestModule {}

function get(port: number, path: string): Promise<{ status: number; body: string; connection?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.end();
  });
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

async function startApp() {
  const app = await createServiceApp({ module: TestModule });
  await app.listen(0, '127.0.0.1');
  return { app, port: (app.getHttpServer().address() as AddressInfo).port };
}

describe('graceful stop (real HTTP server)', () => {
  beforeEach(() => gate.reset());

  it('stops accepting connections, lets the in-flight request finish, then closes', async () => {
    const { app, port } = await startApp();
    const inFlight = get(port, '/t/slow');
    await gate.entered;

    const stopping = drainAndClose(app, 30_000);
    expect(await refusesConnections(port)).toBe(true);
    gate.open();

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ done: true });
    expect(await stopping).toEqual({ unfinished: 0 });
  });

  it('bounds the wait: after the grace period the unfinished request is cut off and the app closes', async () => {
    const { app, port } = await startApp();
    const inFlight = get(port, '/t/slow').then(
      () => 'answered',
      () => 'cut off',
    );
    await gate.entered;
    expect(await drainAndClose(app, 200)).toEqual({ unfinished: 1 });
    expect(await inFlight).toBe('cut off');
    gate.open();
  });
});

describe('request timeout', () => {
  it('lets one request take HTTP_REQUEST_TIMEOUT_MS (default 20 min: 100 MiB at 1 Mbit/s), not Node’s 5 minutes', async () => {
    const saved = process.env.HTTP_REQUEST_TIMEOUT_MS;
    try {
      delete process.env.HTTP_REQUEST_TIMEOUT_MS;
      const { app } = await startApp();
      expect((app.getHttpServer() as { requestTimeout: number }).requestTimeout).toBe(1_200_000);
      await app.close();
      process.env.HTTP_REQUEST_TIMEOUT_MS = '1500000';
      const second = await startApp();
      expect((second.app.getHttpServer() as { requestTimeout: number }).requestTimeout).toBe(1_500_000);
      await second.app.close();
    } finally {
      if (saved === undefined) delete process.env.HTTP_REQUEST_TIMEOUT_MS;
      else process.env.HTTP_REQUEST_TIMEOUT_MS = saved;
    }
  });
});
