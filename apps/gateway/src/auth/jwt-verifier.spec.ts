import { roleFromScope } from './jwt-verifier';

describe('roleFromScope', () => {
  it.each([
    [undefined, 'official'],
    ['', 'official'],
    ['dvd:official', 'official'],
    ['openid dvd:admin', 'admin'],
    ['dvd:admin dvd:platform-admin', 'platform-admin'],
    [['dvd:admin'], 'admin'],
    ['dvd:administrator', 'official'],
  ])('%p → %s', (scope, role) => {
    expect(roleFromScope(scope)).toBe(role);
  });
});
