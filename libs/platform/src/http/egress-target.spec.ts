import { checkTargetUrl, isForbiddenAddress } from './egress-target';

describe('outbound target classification', () => {
  it.each([
    // IPv4
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['10.0.0.1', true],
    ['172.16.5.4', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['169.254.0.1', true],
    ['100.64.0.1', true],
    ['100.100.100.200', true],
    ['0.0.0.0', true],
    ['255.255.255.255', true],
    ['224.0.0.1', true],
    ['239.255.255.250', true],
    ['192.0.2.1', true],
    ['198.18.0.1', true],
    ['8.8.8.8', false],
    ['1.1.1.1', false],
    ['172.32.0.1', false],
    ['100.128.0.1', false],
    // IPv6
    ['::1', true],
    ['[::1]', true],
    ['::', true],
    ['fe80::1', true],
    ['fc00::1', true],
    ['fd00:ec2::254', true],
    ['ff02::1', true],
    ['2001:db8::1', true],
    ['64:ff9b::7f00:1', true],
    ['2002:7f00:1::', true],
    ['2001::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::ffff:10.0.0.1', true],
    ['::ffff:169.254.169.254', true],
    ['2606:4700:4700::1111', false],
    ['2a00:1450:4001:81b::200e', false],
    ['::ffff:8.8.8.8', false],
    // not an address at all
    ['localhost', true],
    ['', true],
  ])('%s forbidden: %s', (address, forbidden) => {
    expect(isForbiddenAddress(address)).toBe(forbidden);
  });

  it.each([
    ['https://eakte.example/ingest', false, null],
    ['https://8.8.8.8/in', false, null],
    ['http://eakte.example/ingest', false, 'must be an https URL'],
    ['ftp://eakte.example/ingest', false, 'must be an https URL'],
    ['https://user:pw@eakte.example/in', false, 'must not contain credentials'],
    ['https://user@eakte.example/in', false, 'must not contain credentials'],
    ['https://127.0.0.1/in', false, /non-public/],
    ['https://2130706433/in', false, /non-public/], // WHATWG URL normalises it to 127.0.0.1
    ['https://0x7f.1/in', false, /non-public/],
    ['https://[::ffff:169.254.169.254]/in', false, /non-public/],
    ['https://[fd00:ec2::254]/in', false, /non-public/],
    ['https://localhost:8443/in', false, /non-public/],
    ['https://api.localhost/in', false, /non-public/],
    ['not a url', false, 'must be a URL'],
    ['http://127.0.0.1:8080/in', true, null],
    ['ftp://127.0.0.1/in', true, 'must be an http(s) URL'],
    ['http://u:p@127.0.0.1/in', true, 'must not contain credentials'],
  ])('%s (private allowed: %s) → %s', (url, allow, problem) => {
    const result = checkTargetUrl(url, allow);
    if (problem instanceof RegExp) expect(result).toMatch(problem);
    else expect(result).toBe(problem);
  });
});
