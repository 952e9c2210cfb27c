import { LookupAddress, LookupAllOptions, LookupOneOptions, lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { isForbiddenAddress } from '@dvd/platform';

/** Raised before any connection when a delivery target is not a public https address. */
export class TargetForbiddenError extends Error {
  override name = 'TargetForbiddenError';
  readonly code = 'ERR_DVD_TARGET_FORBIDDEN';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
/** dns.lookup's shape (the one net.connect calls), so tests can resolve a name to 127.0.0.1. */
export type Lookup = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemLookup: Lookup = (hostname, options, callback) => dnsLookup(hostname, options, callback);

/**
 * A lookup for net/tls.connect that resolves every address of the name and refuses the
 * connection if any of them is not global unicast. The socket then connects to exactly an
 * address checked here, so a DNS answer that changes between a check and the connect
 * (rebinding) gains nothing.
 */
export function guardedLookup(resolve: Lookup = systemLookup) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (addresses.length === 0 || addresses.some((a) => isForbiddenAddress(a.address)))
        return callback(new TargetForbiddenError('target resolves to a non-public address'), []);
      if ((options as LookupAllOptions).all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/**
 * The dispatcher for deliveries to authority-chosen URLs. Unless private targets are
 * allowed (development), it connects only over https and only to public addresses: IP
 * literals are judged before connecting, names after resolution (guardedLookup).
 * Redirects are never followed (the request sets maxRedirections: 0).
 */
export function deliveryAgent(o: { allowPrivateTargets: boolean; connectTimeoutMs: number; lookup?: Lookup }): Agent {
  if (o.allowPrivateTargets) return new Agent({ connect: { timeout: o.connectTimeoutMs } });
  const connect = buildConnector({ timeout: o.connectTimeoutMs, lookup: guardedLookup(o.lookup) });
  return new Agent({
    connect: (options, callback) => {
      const host = options.hostname.replace(/^\[(.*)\]$/, '$1');
      if (options.protocol !== 'https:') return callback(new TargetForbiddenError('only https targets are allowed'), null);
      if (isIP(host) && isForbiddenAddress(host)) return callback(new TargetForbiddenError('target is a non-public address'), null);
      connect(options, callback);
    },
  });
}
