import { createHmac } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { request } from 'undici';
import { BuiltPackage } from '../packaging/case-package';
import { DeliveryOutcome, classifyResponse } from './retry-policy';

/** Base64 of a byte stream, chunk by chunk (3-byte aligned, so chunks concatenate to one valid base64 text). */
function base64Encoder(): Transform {
  let carry: Buffer = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      const usable = data.length - (data.length % 3);
      carry = data.subarray(usable);
      cb(null, usable ? data.subarray(0, usable).toString('base64') : undefined);
    },
    flush(cb) {
      cb(null, carry.length ? carry.toString('base64') : undefined);
    },
  });
}

export interface WebhookMessage {
  jobId: string;
  documentId: string;
  authorityId: string;
  pkg: BuiltPackage;
  timestamp: Date;
}

/** The JSON envelope API.md specifies, with the ZIP as base64, produced as a stream. */
function envelope(m: WebhookMessage): { length: number; open: () => Readable } {
  const prefix = Buffer.from(
    `{"type":"export.package","timestamp":${JSON.stringify(m.timestamp.toISOString())},"data":{"jobId":${JSON.stringify(m.jobId)},` +
      `"documentId":${JSON.stringify(m.documentId)},"authorityId":${JSON.stringify(m.authorityId)},` +
      `"package":{"contentType":"application/zip","size":${m.pkg.size},"sha256":${JSON.stringify(m.pkg.sha256)},"base64":"`,
  );
  const suffix = Buffer.from('"}}}');
  const length = prefix.length + 4 * Math.ceil(m.pkg.size / 3) + suffix.length;
  const open = () =>
    Readable.from(
      (async function* () {
        yield prefix;
        for await (const chunk of createReadStream(m.pkg.path).pipe(base64Encoder())) yield Buffer.from(chunk as string);
        yield suffix;
      })(),
    );
  return { length, open };
}

/** Standard Webhooks signing key: the base64 after `whsec_`. */
function signingKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
}

/**
 * Delivers an export as a Standard Webhooks message. The body is streamed twice from the
 * package file: once to compute the signature (which must precede the body in the
 * headers), once to send it — never held in memory.
 */
export async function deliverWebhook(
  m: WebhookMessage,
  target: { url: string; secret: string },
  timeoutMs: number,
): Promise<DeliveryOutcome & { receipt?: unknown }> {
  const body = envelope(m);
  const unix = Math.floor(m.timestamp.getTime() / 1000);
  const hmac = createHmac('sha256', signingKey(target.secret)).update(`${m.jobId}.${unix}.`);
  for await (const chunk of body.open()) hmac.update(chunk as Buffer);
  const signature = `v1,${hmac.digest('base64')}`;

  try {
    const res = await request(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'idempotency-key': m.jobId,
        'x-dvd-document-id': m.documentId,
        'webhook-id': m.jobId,
        'webhook-timestamp': String(unix),
        'webhook-signature': signature,
        'user-agent': 'DirektVermittlungDe-export/1',
      },
      body: body.open(),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      maxRedirections: 0,
      signal: AbortSignal.timeout(timeoutMs * 2),
    });
    const outcome = classifyResponse(res.statusCode, headerValue(res.headers['retry-after']));
    const receipt =
      outcome.kind === 'delivered'
        ? await readReceipt(res.body, headerValue(res.headers['content-type']))
        : await res.body.dump().then(() => undefined);
    return { ...outcome, receipt };
  } catch (err) {
    const e = err as { code?: string; name?: string };
    return { kind: 'retry', reason: `delivery failed: ${e.code ?? e.name ?? 'network error'}` };
  }
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/** A JSON response body (at most 64 KiB) is kept as the receipt; anything else is dropped. */
async function readReceipt(body: { text: () => Promise<string>; dump: () => Promise<void> }, contentType?: string): Promise<unknown> {
  if (!contentType?.includes('json')) {
    await body.dump();
    return null;
  }
  const text = await body.text();
  if (text.length > 64 * 1024) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
