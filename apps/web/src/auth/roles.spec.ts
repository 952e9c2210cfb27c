import { apiRoleOf, homeOf, issuerFor, jwtClaims, scopeFor } from './roles';

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('login roles', () => {
  it('asks the citizen issuer for openid offline_access, the official issuer for the role scope', () => {
    expect([issuerFor('citizen'), scopeFor('citizen')]).toEqual(['citizen', 'openid offline_access']);
    expect([issuerFor('official'), scopeFor('official')]).toEqual(['official', 'openid offline_access dvd:official']);
    expect([issuerFor('admin'), scopeFor('admin')]).toEqual(['official', 'openid offline_access dvd:admin']);
  });

  it('derives the platform role like the gateway: the strongest scope wins', () => {
    expect(apiRoleOf('citizen', 'dvd:admin')).toBe('citizen');
    expect(apiRoleOf('official', undefined)).toBe('official');
    expect(apiRoleOf('official', 'openid dvd:official dvd:admin')).toBe('admin');
    expect(apiRoleOf('official', 'dvd:admin dvd:platform-admin')).toBe('platform-admin');
    expect(homeOf('citizen')).toBe('/citizen');
    expect(homeOf('official')).toBe('/official');
    expect(homeOf('admin')).toBe('/admin');
  });

  it('reads a JWT payload (UTF-8 included) without trusting it, and nothing from a non-JWT', () => {
    const token = `${b64url({ alg: 'ES256' })}.${b64url({ sub: 'ü-1', authority_id: 'stadt-a', scope: 'dvd:admin' })}.sig`;
    expect(jwtClaims(token)).toEqual({ sub: 'ü-1', authority_id: 'stadt-a', scope: 'dvd:admin' });
    expect(jwtClaims('opaque-token')).toBeNull();
    expect(jwtClaims('a.!!!.c')).toBeNull();
  });
});
