import { z } from 'zod';
import { generateDevIdentityKeys } from '../auth-context/identity-keys';
import { ConfigError, amqpEnv, databaseEnv, identitySigningEnv, identityVerifyEnv, loadConfig, port } from './config';

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
