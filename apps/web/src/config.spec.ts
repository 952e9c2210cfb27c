import { absoluteApiBase, ConfigError, parseConfig } from './config';

describe('parseConfig', () => {
  const good = {
    apiBase: '/api/v1/',
    audience: 'dvd-api',
    issuers: { citizen: 'http://127.0.0.1:3100/citizen/', official: 'https://idp.example/official' },
    clientId: 'dvd-web',
  };

  it('takes the documented config.json and trims trailing slashes', () => {
    expect(parseConfig(good)).toEqual({
      apiBase: '/api/v1',
      audience: 'dvd-api',
      issuers: { citizen: 'http://127.0.0.1:3100/citizen', official: 'https://idp.example/official' },
      clientId: 'dvd-web',
    });
  });

  it('fills apiBase, audience and clientId with their defaults', () => {
    expect(parseConfig({ issuers: good.issuers })).toMatchObject({ apiBase: '/api/v1', audience: 'dvd-api', clientId: 'dvd-web' });
  });

  it('refuses missing or non-http issuers', () => {
    expect(() => parseConfig({ ...good, issuers: { citizen: good.issuers.citizen } })).toThrow(ConfigError);
    expect(() => parseConfig({ ...good, issuers: { ...good.issuers, official: 'javascript:alert(1)' } })).toThrow(ConfigError);
    expect(() => parseConfig({ ...good, issuers: { ...good.issuers, official: '/relative' } })).toThrow(ConfigError);
    expect(() => parseConfig(null)).toThrow(ConfigError);
  });

  it('makes a relative API base absolute on the page origin (the SDK builds URLs with new URL)', () => {
    expect(absoluteApiBase(parseConfig(good), 'http://127.0.0.1:3200')).toBe('http://127.0.0.1:3200/api/v1');
    expect(absoluteApiBase(parseConfig({ ...good, apiBase: 'https://api.example/v1' }), 'http://x')).toBe('https://api.example/v1');
  });
});
