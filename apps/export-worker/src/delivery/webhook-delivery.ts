import { createHmac } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { Agent, request } from 'undici';
import { SecretBox, checkTargetUrl, ingestSecretContext } from '@dvd/platform';
import { BuiltPackage } from '../packaging/case-package';
import { parseReceipt, readCapped } from './receipt';
import { DeliveryOutcome, classifyError, classifyResponse } from './retry-policy';
import { Lookup, deliveryAgent } from './target-guard';

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

/** The JSON envelope of ADR 0007 (Standard Webhooks), with the ZIP as base64, produced as a stream. */
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

/** Where an authority's exports go, as routing-engine's internal API hands it out (secrets sealed, current first). */
export interface IngestTarget {
  ingestUrl: string;
  ingestSecrets: string[];
}

export interface WebhookDeliveryOptions {
  /** Development only (EXPORT_ALLOW_PRIVATE_TARGETS): plain http and local addresses allowed. */
  allowPrivateTargets: boolean;
  timeoutMs: number;
  secretBox: SecretBox;
  /** Tests: resolve names differently (the guard still judges what comes back). */
  lookup?: Lookup;
}

export type DeliveryResult = DeliveryOutcome & { receipt?: Record<string, unknown> | null };

/**
 * Delivers an export as a Standard Webhooks message. The body is streamed twice from the
 * package file: once to compute the signatures (which must precede the body in the
 * headers), once to send it — never held in memory. One `v1,<sig>` per active secret, so
 * a receiver verifies with either during a rotation.
 *
 * Only public https targets (see target-guard), no redirects, a receipt only as a small
 * JSON object read under a byte cap, and every failure reported as a category.
 */
export class WebhookDelivery {
  private readonly agent: Agent;

  constructor(private readonly o: WebhookDeliveryOptions) {
    this.agent = deliveryAgent({ allowPrivateTargets: o.allowPrivateTargets, connectTimeoutMs: o.timeoutMs, lookup: o.lookup });
  }

  async deliver(m: WebhookMessage, target: IngestTarget): Promise<DeliveryResult> {
    if (checkTargetUrl(target.ingestUrl, this.o.allowPrivateTargets) !== null) return { kind: 'fail', reason: 'target-forbidden' };
    const secrets = this.openSecrets(m.authorityId, target.ingestSecrets);
    if (!secrets) return { kind: 'retry', reason: 'secret-unavailable' };

    const body = envelope(m);
    const unix = Math.floor(m.timestamp.getTime() / 1000);
    const hmacs = secrets.map((s) => createHmac('sha256', signingKey(s)).update(`${m.jobId}.${unix}.`));
    for await (const chunk of body.open()) for (const h of hmacs) h.update(chunk as Buffer);
    const signature = hmacs.map((h) => `v1,${h.digest('base64')}`).join(' ');

    const cut = new AbortController();
    try {
      const res = await request(target.ingestUrl, {
        dispatcher: this.agent,
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
        headersTimeout: this.o.timeoutMs,
        bodyTimeout: this.o.timeoutMs,
        maxRedirections: 0,
        signal: AbortSignal.any([AbortSignal.timeout(this.o.timeoutMs * 2), cut.signal]),
      });
      const outcome = classifyResponse(res.statusCode, headerValue(res.headers['retry-after']));
      if (outcome.kind !== 'delivered' || !headerValue(res.headers['content-type'])?.includes('json')) {
        // the answer's body is not needed (and never shown): drop the connection instead of reading it
        cut.abort();
        res.body.destroy();
        return { ...outcome, receipt: null };
      }
      const raw = await readCapped(res.body, headerValue(res.headers['content-length']), () => cut.abort());
      if (raw === 'too-large') return { kind: 'fail', reason: 'receipt-too-large' };
      if (raw.length === 0) return { kind: 'delivered', receipt: null };
      const receipt = parseReceipt(raw);
      return receipt.ok ? { kind: 'delivered', receipt: receipt.receipt } : { kind: 'fail', reason: receipt.reason };
    } catch (err) {
      return classifyError(err);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agent.close();
  }

  private openSecrets(authorityId: string, sealed: string[]): string[] | null {
    if (sealed.length === 0) return null;
    try {
      return sealed.slice(0, 2).map((s) => this.o.secretBox.open(s, ingestSecretContext(authorityId)));
    } catch {
      return null;
    }
  }
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}
