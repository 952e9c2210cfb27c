import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import type { ApiResponse, UploadOptions, UploadOutcome } from './types';

/** Only loopback: the bench never sends load anywhere else. */
export function assertLoopback(url: string, what: string): URL {
  const u = new URL(url);
  if (u.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
    throw new Error(`${what} must be http://127.0.0.1:<port> (got ${url}); the bench only loads this machine`);
  }
  return u;
}

export async function apiCall<T>(apiUrl: string, token: string, method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
  const res = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, body: json as T };
}

export const defaultAgent = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * POST /documents as multipart/form-data (metadata, then encryptedPayload), written as
 * three chunks so that one payload buffer serves any number of uploads.
 */
export function uploadDocument(apiUrl: string, authorityId: string, o: UploadOptions): Promise<UploadOutcome> {
  const url = new URL(`${apiUrl}/documents`);
  const boundary = `----dvdbench${randomBytes(8).toString('hex')}`;
  const metadata = {
    referenceNumber: o.referenceNumber ?? `BENCH-${randomBytes(4).toString('hex')}`,
    authorityId,
    documentType: o.documentType ?? 'BENCHMARK',
    payloadSize: o.jwe.length,
  };
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n` +
      `${JSON.stringify(metadata)}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="encryptedPayload"; filename="document.jwe"\r\n` +
      `Content-Type: application/jose\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const started = performance.now();
  return new Promise<UploadOutcome>((resolve) => {
    let done = false;
    const finish = (outcome: Omit<UploadOutcome, 'ms'>) => {
      if (done) return;
      done = true;
      resolve({ ...outcome, ms: performance.now() - started });
    };
    const req = request(
      {
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent: o.agent ?? defaultAgent,
        headers: {
          authorization: `Bearer ${o.token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(head.length + o.jwe.length + tail.length),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => finish({ status: res.statusCode ?? 0, error: err.message }));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let id: string | undefined;
          let error: string | undefined;
          try {
            const body = JSON.parse(text) as { id?: string; type?: string; detail?: string };
            id = body.id;
            if (res.statusCode !== 201) error = body.detail ?? body.type;
          } catch {
            if (res.statusCode !== 201) error = text.slice(0, 200);
          }
          finish({ status: res.statusCode ?? 0, id: res.statusCode === 201 ? id : undefined, error });
        });
      },
    );
    req.setTimeout(o.timeoutMs ?? 300_000, () => req.destroy(new Error('timed out')));
    // an early answer (413, 422, 429) may cut the body off: the response still counts
    req.on('error', (err: NodeJS.ErrnoException) => finish({ status: 0, error: err.code ?? err.message }));
    req.write(head);
    req.write(o.jwe);
    req.end(tail);
  });
}
