/**
 * The headers every page of the browser app is served with (ADR 0018). The policy allows
 * scripts, styles, fonts and connections from this origin only — plus connections and form
 * posts to the two identity providers (discovery, token endpoint, login forms). No inline
 * script, no eval, no framing.
 */
export interface CspInput {
  issuers: string[];
}

/** The origins of the issuers (scheme://host:port), without duplicates. */
export function issuerOrigins(issuers: string[]): string[] {
  return [...new Set(issuers.map((i) => new URL(i).origin))];
}

export function contentSecurityPolicy({ issuers }: CspInput): string {
  const idp = issuerOrigins(issuers);
  const directives: Array<[string, string[]]> = [
    ['default-src', ["'self'"]],
    ['script-src', ["'self'"]],
    ['style-src', ["'self'"]],
    ['img-src', ["'self'", 'data:', 'blob:']],
    ['font-src', ["'self'"]],
    ['connect-src', ["'self'", ...idp]],
    ['form-action', ["'self'", ...idp]],
    ['frame-ancestors', ["'none'"]],
    ['frame-src', ["'none'"]],
    ['worker-src', ["'none'"]],
    ['object-src', ["'none'"]],
    ['base-uri', ["'none'"]],
    ['manifest-src', ["'self'"]],
  ];
  return directives.map(([name, values]) => `${name} ${values.join(' ')}`).join('; ');
}

export function securityHeaders(o: CspInput & { hsts: boolean }): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(o),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()',
    ...(o.hsts ? { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}
