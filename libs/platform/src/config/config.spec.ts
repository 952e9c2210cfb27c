import { z } from 'zod';
import { ConfigError, amqpEnv, databaseEnv, internalAuthEnv, loadConfig, port } from './config';

const schema = z.object({ ...databaseEnv, ...amqpEnv, ...internalAuthEnv, PORT: port(3001) });

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const cfg = loadConfig(schema, { INTERNAL_AUTH_SECRET: 'x'.repeat(32) });
    expect(cfg.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/dvd');
    expect(cfg.AMQP_URL).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(cfg.EVENT_MAX_DELIVERIES).toBe(5);
    expect(cfg.PORT).toBe(3001);
  });

  it('coerces numbers and lets the environment override defaults', () => {
    const cfg = loadConfig(schema, {
      INTERNAL_AUTH_SECRET: 'x'.repeat(40),
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
    expect(err.problems.map((p) => p.variable).sort()).toEqual(['DATABASE_URL', 'EVENT_MAX_DELIVERIES', 'INTERNAL_AUTH_SECRET', 'PORT']);
    expect(err.message).toContain('INTERNAL_AUTH_SECRET is required');
    expect(err.message).not.toContain('secret-host');
    expect(err.message.split('\n')).toHaveLength(1);
  });

  it('treats an empty variable as unset', () => {
    const cfg = loadConfig(schema, { INTERNAL_AUTH_SECRET: 'y'.repeat(32), PORT: '' });
    expect(cfg.PORT).toBe(3001);
  });
});
