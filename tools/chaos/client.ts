import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { sleep } from '../bench/util';

/** Statuses a well-behaved client retries (same Idempotency-Key): unavailable, gateway errors, key still in flight, no answer. */
const RETRYABLE = new Set([0, 409, 429, 502, 503, 504]);

export interface Answer {
  status: number;
  retryAfterS?: number;
  body: Buffer;
}

export const agent = new Agent({ keepAlive: true, maxSockets: 128 });

/** One HTTP exchange; network failures are status 0. */
export function exchange(
  url: string,
  o: { method: string; headers: Record<string, string>; body?: Buffer[]; timeoutMs?: number },
): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve) => {
    let done = false;
    const finish = (a: Answer) => {
      if (!done) resolve(a);
      done = true;
    };
    const req = request(
      { hostname: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method: o.method, agent, headers: o.headers },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= 2 * 1024 * 1024) chunks.push(c); // a bounded read: payloads are 256 KiB
        });
        res.on('error', () => finish({ status: 0, body: Buffer.alloc(0) }));
        res.on('end', () => {
          const ra = Number(res.headers['retry-after']);
          finish({ status: res.statusCode ?? 0, retryAfterS: Number.isFinite(ra) ? ra : undefined, body: Buffer.concat(chunks) });
        });
      },
    );
    req.setTimeout(o.timeoutMs ?? 60_000, () => req.destroy(new Error('timed out')));
    req.on('error', () => finish({ status: 0, body: Buffer.alloc(0) }));
    for (const part of o.body ?? []) req.write(part);
    req.end();
  });
}

/** Retries retryable answers (honouring Retry-After, at most 5 s per wait) until `budgetMs` is spent. */
export async function withRetries(call: () => Promise<Answer>, budgetMs: number): Promise<Answer & { attempts: number }> {
  const deadline = Date.now() + budgetMs;
  let attempts = 0;
  let backoff = 250;
  for (;;) {
    attempts++;
    const a = await call();
    if (!RETRYABLE.has(a.status) || Date.now() >= deadline) return { ...a, attempts };
    const wait = a.retryAfterS !== undefined ? Math.min(5_000, a.retryAfterS * 1000) : backoff;
    backoff = Math.min(4_000, backoff * 2);
    await sleep(Math.min(wait, Math.max(0, deadline - Date.now())) + Math.random() * 200);
  }
}

export function json<T>(a: Answer): T | undefined {
  try {
    return JSON.parse(a.body.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** POST /documents as multipart with an Idempotency-Key; one key for every retry. */
export function uploadWithKey(apiUrl: string, o: { token: string; authorityId: string; jwe: Buffer; key: string; reference: string }) {
  const boundary = `----dvdchaos${randomBytes(8).toString('hex')}`;
  const metadata = { referenceNumber: o.reference, authorityId: o.authorityId, documentType: 'CHAOS' };
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n` +
      `${JSON.stringify(metadata)}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="encryptedPayload"; filename="document.jwe"\r\n` +
      `Content-Type: application/jose\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return exchange(`${apiUrl}/documents`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${o.token}`,
      'idempotency-key': o.key,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(head.length + o.jwe.length + tail.length),
    },
    body: [head, o.jwe, tail],
    timeoutMs: 60_000,
  });
}

export function apiJson(apiUrl: string, token: string, method: string, path: string, body?: unknown) {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return exchange(`${apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
    },
    body: payload ? [payload] : undefined,
    timeoutMs: 30_000,
  });
}

export const newKey = () => randomUUID();
