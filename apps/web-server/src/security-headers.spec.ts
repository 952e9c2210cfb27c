import { contentSecurityPolicy, issuerOrigins, securityHeaders } from './security-headers';

describe('the web app’s Content-Security-Policy', () => {
  const csp = contentSecurityPolicy({ issuers: ['http://127.0.0.1:3100/citizen', 'http://127.0.0.1:3100/official'] });
  const directive = (name: string) => csp.split('; ').find((d) => d.startsWith(`${name} `));

  it('allows scripts, styles and fonts from this origin only: no inline script, no eval', () => {
    expect(directive('script-src')).toBe("script-src 'self'");
    expect(directive('style-src')).toBe("style-src 'self'");
    expect(directive('font-src')).toBe("font-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });

  it('lets the app talk to itself and the identity providers, and nothing frame it', () => {
    expect(directive('connect-src')).toBe("connect-src 'self' http://127.0.0.1:3100");
    expect(directive('form-action')).toBe("form-action 'self' http://127.0.0.1:3100");
    expect(directive('img-src')).toBe("img-src 'self' data: blob:");
    expect(directive('frame-ancestors')).toBe("frame-ancestors 'none'");
    expect(directive('object-src')).toBe("object-src 'none'");
    expect(directive('base-uri')).toBe("base-uri 'none'");
  });

  it('names each issuer origin once', () => {
    expect(issuerOrigins(['https://a.example/x', 'https://b.example:8443/y', 'https://a.example/z'])).toEqual([
      'https://a.example',
      'https://b.example:8443',
    ]);
  });

  it('adds HSTS only when asked (the app is served over https)', () => {
    expect(securityHeaders({ issuers: ['https://a.example'], hsts: false })['Strict-Transport-Security']).toBeUndefined();
    expect(securityHeaders({ issuers: ['https://a.example'], hsts: true })['Strict-Transport-Security']).toMatch(/max-age=/);
    expect(securityHeaders({ issuers: ['https://a.example'], hsts: false })).toMatchObject({
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
  });
});
