import { createHash } from 'node:crypto';
import { createServer, IncomingMessage } from 'node:http';
import { AddressInfo } from 'node:net';
import { JWK, exportJWK, generateKeyPair } from 'jose';

/** A real JWKS endpoint that counts how often it is asked. */
export async function jwksServer(initial: Array<{ jwk: JWK }>) {
  const state = { keys: initial.map((k) => k.jwk), hits: 0 };
  const server = createServer((req, res) => {
    state.hits++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  return { server, url, state };
}

export async function keyPair(alg: 'RS256' | 'ES256' | 'PS256', kid: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicKey, kid, alg, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export type Received = { headers: IncomingMessage['headers']; method: string; url: string; sha256: string; bytes: number };

/** Stands in for a downstream service: records what arrives and answers with it. */
export async function echoUpstream() {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      hash.update(c);
      bytes += c.length;
    });
    req.on('end', () => {
      const r = { headers: req.headers, method: req.method!, url: req.url!, sha256: hash.digest('hex'), bytes };
      received.push(r);
      res.setHeader('content-type', 'application/json');
      // asked to, it answers a request id and a rate-limit header of its own (the gateway's win)
      if (req.headers['x-echo-own-ids'] === '1') {
        res.setHeader('x-request-id', 'the-service-own-id');
        res.setHeader('ratelimit-limit', '999999');
      }
      // asked to, it names a header of its own hop-by-hop (RFC 9110 §7.6.1), beside an end-to-end one
      if (req.headers['x-echo-hop'] === '1') {
        res.setHeader('connection', 'keep-alive, x-upstream-hop');
        res.setHeader('x-upstream-hop', 'hop');
        res.setHeader('x-upstream-end', 'end');
      }
      res.end(JSON.stringify(r));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}
