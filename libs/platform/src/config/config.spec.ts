import { createServer } from 'node:http';
import { z } from 'zod';
import { generateDevIdentityKeys } from '../auth-context/identity-keys';
import {
  ConfigError,
  amqpEnv,
  applyServerTimeouts,
  commonEnv,
  databaseEnv,
  identitySigningEnv,
  identityVerifyEnv,
  loadConfig,
  port,
  redisEnv,
} from './config';

const schema = z.object({ ...databaseEnv, ...amqpEnv, ...identityVerifyEnv, PORT: port(3001) });
const keys = generateDevIdentityKeys('spec');

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const cfg = loadConfig(schema, { IDENTITY_VERIFY_KEYS: keys.verifyKeys });
    expect(cfg.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/dvd');
    expect(cfg.AMQP_URL).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(cfg.EVENT_MAX_DELIVERIES).toBe(5);
    expect(cfg.PORT).toBe(3001);
  });

  it('coerces numbers and lets the environment override defaults', () => {
    const cfg = loadConfig(schema, {
      IDENTITY_VERIFY_KEYS: keys.verifyKeys,
      EVENT_MAX_DELIVERIES: '3',
      DATABASE_URL: 'postgresql://u@db:5432/other',
    });
    expect(cfg.EVENT_MAX_DELIVERIES).toBe(3);
    expect(cfg.DATABASE_URL).toBe('postgresql://u@db:5432/other');
  });

  it('reports every bad variable at once, by name, without echoing values', () => {
    let error: unknown;
    try {
      loadConfig(schema, {
        DATABASE_URL: 'mysql://secret-host/db',
        EVENT_MAX_DELIVERIES: 'many',
        PORT: '70000',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const err = error as ConfigError;
    expect(err.problems.map((p) => p.variable).sort()).toEqual(['DATABASE_URL', 'EVENT_MAX_DELIVERIES', 'IDENTITY_VERIFY_KEYS', 'PORT']);
    expect(err.message).toContain('IDENTITY_VERIFY_KEYS is required');
    expect(err.message).not.toContain('secret-host');
    expect(err.message.split('\n')).toHaveLength(1);
  });

  it('treats an empty variable as unset', () => {
    const cfg = loadConfig(schema, { IDENTITY_VERIFY_KEYS: keys.verifyKeys, PORT: '' });
    expect(cfg.PORT).toBe(3001);
  });

  it('accepts only the right identity keys, and never echoes one', () => {
    const gateway = z.object(identitySigningEnv);
    expect(() => loadConfig(gateway, { IDENTITY_SIGNING_KEY: keys.gateway })).not.toThrow();
    // a service's own key cannot be made the gateway's
    expect(() => loadConfig(gateway, { IDENTITY_SIGNING_KEY: keys.services.communication })).toThrow(/IDENTITY_SIGNING_KEY is invalid/);
    // a private key where public ones belong is refused
    const privateSet = JSON.stringify({ keys: [JSON.parse(keys.gateway)] });
    let error: unknown;
    try {
      loadConfig(schema, { IDENTITY_VERIFY_KEYS: privateSet });
    } catch (e) {
      error = e;
    }
    expect((error as ConfigError).message).toMatch(/IDENTITY_VERIFY_KEYS is invalid/);
    expect((error as ConfigError).message).not.toContain(JSON.parse(keys.gateway).d);
  });
});

describe('connections over TLS', () => {
  it('accepts postgres URLs with sslmode, amqps and rediss (deploy/README.md, "TLS to the data stores")', () => {
    const cfg = loadConfig(z.object({ ...databaseEnv, ...amqpEnv, ...redisEnv }), {
      DATABASE_URL: 'postgres://intake:pw@db.internal:5432/dvd?sslmode=verify-full&sslrootcert=/etc/dvd/tls/ca.crt',
      AMQP_URL: 'amqps://intake:pw@mq.internal:5671/dvd',
      REDIS_URL: 'rediss://intake:pw@cache.internal:6380',
    });
    expect(new URL(cfg.DATABASE_URL).searchParams.get('sslmode')).toBe('verify-full');
    expect(cfg.AMQP_URL.startsWith('amqps:')).toBe(true);
    expect(cfg.REDIS_URL.startsWith('rediss:')).toBe(true);
  });
});

describe('HTTP_REQUEST_TIMEOUT_MS', () => {
  it('defaults to a time in which 100 MiB arrive at 1 Mbit/s', () => {
    const { HTTP_REQUEST_TIMEOUT_MS } = loadConfig(z.object(commonEnv), {});
    const seconds = (100 * 1024 * 1024 * 8) / 1_000_000; // ≈ 839 s
    expect(HTTP_REQUEST_TIMEOUT_MS / 1000).toBeGreaterThan(seconds);
  });
});

describe('applyServerTimeouts', () => {
  it('keeps idle connections open longer than the clients in front keep theirs, and bounds a whole request and its headers', () => {
    const server = createServer();
    const c = z.object(commonEnv).parse({});
    applyServerTimeouts(server, c);
    expect(server.keepAliveTimeout).toBe(75_000);
    expect(server.requestTimeout).toBe(1_200_000);
    expect(server.headersTimeout).toBe(60_000);
    // without a request limit the headers still have one
    applyServerTimeouts(server, { HTTP_REQUEST_TIMEOUT_MS: 0, HTTP_KEEP_ALIVE_TIMEOUT_MS: 90_000 });
    expect([server.requestTimeout, server.headersTimeout, server.keepAliveTimeout]).toEqual([0, 60_000, 90_000]);
    // Node refuses a headers timeout beyond the request's
    applyServerTimeouts(server, { HTTP_REQUEST_TIMEOUT_MS: 10_000, HTTP_KEEP_ALIVE_TIMEOUT_MS: 90_000 });
    expect(server.headersTimeout).toBe(10_000);
  });
});
