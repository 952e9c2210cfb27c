import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { ConfigError } from '../config/config';

/**
 * Which addresses the platform may send requests to that a tenant chose (an authority's
 * ingest URL): only global unicast. Everything else — loopback, private (RFC 1918),
 * link-local (incl. the cloud metadata address 169.254.169.254), unique-local (incl.
 * fd00:ec2::254), CGNAT (incl. 100.100.100.200), multicast, broadcast, unspecified,
 * documentation/benchmarking/reserved ranges, and IPv6 forms embedding an IPv4 address
 * (IPv4-mapped, NAT64, 6to4, Teredo) — is refused. IPv4-mapped IPv6 is judged as the
 * IPv4 address it carries. Unparsable input is refused too.
 */
export function isForbiddenAddress(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(bare)) return true;
  return ipaddr.process(bare).range() !== 'unicast';
}

export function isIpLiteral(host: string): boolean {
  return ipaddr.isValid(host.replace(/^\[(.*)\]$/, '$1'));
}

/**
 * Registration-time checks of an outbound target URL (the connect-time address check
 * still runs on every request, after DNS). Returns what is wrong, or null. With
 * `allowPrivateTargets` (development only) plain http and local addresses are accepted.
 */
export function checkTargetUrl(value: string, allowPrivateTargets: boolean): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL';
  }
  const schemes = allowPrivateTargets ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) return allowPrivateTargets ? 'must be an http(s) URL' : 'must be an https URL';
  if (url.username || url.password) return 'must not contain credentials';
  if (allowPrivateTargets) return null;
  const host = url.hostname.toLowerCase();
  if (isIpLiteral(host) ? isForbiddenAddress(host) : host === 'localhost' || host.endsWith('.localhost'))
    return 'must not point to a loopback, private, link-local or otherwise non-public address';
  return null;
}

/**
 * Development switch: lets exports go to plain http and local addresses (a receiver on
 * 127.0.0.1). Off unless set to "true"; `npm start` sets it. Never in production
 * (`assertPrivateTargetsAllowed` stops such a start).
 */
export const allowPrivateTargetsEnv = {
  EXPORT_ALLOW_PRIVATE_TARGETS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
};

export function assertPrivateTargetsAllowed(config: { NODE_ENV: string; EXPORT_ALLOW_PRIVATE_TARGETS: boolean }): void {
  if (config.EXPORT_ALLOW_PRIVATE_TARGETS && config.NODE_ENV === 'production')
    throw new ConfigError([{ variable: 'EXPORT_ALLOW_PRIVATE_TARGETS', message: 'must not be true when NODE_ENV is production' }]);
}
