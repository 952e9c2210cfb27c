import { z } from 'zod';
import { commonEnv } from '@dvd/platform';
import { IDLE_UPSTREAM_SOCKET_MS } from './gateway-proxy';

describe('the gateway pool to the services', () => {
  it('lets an idle connection go well before a service closes it (no reuse racing the close: ECONNRESET)', () => {
    const { HTTP_KEEP_ALIVE_TIMEOUT_MS } = z.object(commonEnv).parse({});
    // Node's agent keeps idle sockets forever without a timeout, and a stalled event loop
    // delays the timer: a margin of many seconds, not one
    expect(IDLE_UPSTREAM_SOCKET_MS).toBeGreaterThan(0);
    expect(HTTP_KEEP_ALIVE_TIMEOUT_MS - IDLE_UPSTREAM_SOCKET_MS).toBeGreaterThanOrEqual(30_000);
  });
});
