import { unzipSync } from 'fflate';
import { Webhook } from 'standardwebhooks';
import { ExportWebhookSchema } from '@dvd/contracts';
import { sameText, sha256Hex, utf8 } from './bytes';
import { DvdIntegrityError, DvdWebhookError } from './errors';
import type { ExportWebhook } from './types';

/** Standard Webhooks' window: a delivery older or newer than this is refused. */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;
/** The largest delivery body the receiver takes by default (a 100 MiB payload as base64, plus messages). */
export const DEFAULT_MAX_DELIVERY_BYTES = 256 * 1024 * 1024;
const PACKAGE_FILES = ['manifest.json', 'payload.jwe', 'messages.json'] as const;

export type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function header(h: HeaderBag, name: string): string | undefined {
  if (typeof (h as Headers).get === 'function') return (h as Headers).get(name) ?? undefined;
  const v = (h as Record<string, string | string[] | undefined>)[name] ?? (h as Record<string, string | undefined>)[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** What a receiver remembers of the deliveries it accepted (pluggable: memory, a file, a database). */
export interface DeliveryLog {
  /** The earlier acceptance of this webhook-id, if any. */
  get(webhookId: string): Promise<AcceptedDelivery | undefined> | AcceptedDelivery | undefined;
  put(webhookId: string, accepted: AcceptedDelivery): Promise<void> | void;
}

export interface AcceptedDelivery {
  /** The signatures of every message accepted under this id (a verbatim repeat is a replay). */
  signatures: string[];
  packageSha256: string;
  receipt: Record<string, unknown>;
}

/** A delivery log in memory (a process's lifetime). */
export class MemoryDeliveryLog implements DeliveryLog {
  private readonly entries = new Map<string, AcceptedDelivery>();
  get(id: string) {
    return this.entries.get(id);
  }
  put(id: string, accepted: AcceptedDelivery) {
    this.entries.set(id, accepted);
  }
}

export interface VerifiedDelivery {
  webhookId: string;
  signature: string;
  timestamp: Date;
  envelope: ExportWebhook;
}

/**
 * Verifies a Standard Webhooks export delivery: the HMAC signature with any of `secrets`
 * (`whsec_…`; several while the receiver rotates), the timestamp within ±`toleranceSeconds`
 * (at most the standard's 5 minutes), and the envelope's shape. Throws DvdWebhookError.
 */
export function verifyExportDelivery(o: {
  body: string | Uint8Array;
  headers: HeaderBag;
  secrets: string | string[];
  toleranceSeconds?: number;
  maxBytes?: number;
  now?: Date;
}): VerifiedDelivery {
  const maxBytes = o.maxBytes ?? DEFAULT_MAX_DELIVERY_BYTES;
  const size = typeof o.body === 'string' ? o.body.length : o.body.byteLength;
  if (size > maxBytes) throw new DvdWebhookError('too-large', `the delivery is larger than ${maxBytes} bytes`);
  const id = header(o.headers, 'webhook-id');
  const ts = header(o.headers, 'webhook-timestamp');
  const signature = header(o.headers, 'webhook-signature');
  if (!id || !ts || !signature || !/^\d{1,12}$/.test(ts) || id.length > 200 || signature.length > 2000) {
    throw new DvdWebhookError('malformed', 'webhook-id, webhook-timestamp and webhook-signature are required');
  }
  const tolerance = Math.min(o.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS, WEBHOOK_TOLERANCE_SECONDS);
  const now = (o.now ?? new Date()).getTime() / 1000;
  if (Math.abs(now - Number(ts)) > tolerance) throw new DvdWebhookError('timestamp', 'the delivery is outside the time window');
  let text: string;
  try {
    text = typeof o.body === 'string' ? o.body : utf8(o.body);
  } catch {
    throw new DvdWebhookError('malformed', 'the delivery body is not UTF-8');
  }
  // The signature is checked here against the header's timestamp, which was judged above by
  // `now`: Webhook.verify would judge it again by the machine's clock.
  const signed = new Date(Number(ts) * 1000);
  const offered = signature
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => s.slice(3));
  const secrets = Array.isArray(o.secrets) ? o.secrets : [o.secrets];
  let verified = false;
  for (const secret of secrets) {
    let expected: string;
    try {
      expected = new Webhook(secret).sign(id, signed, text).slice(3);
    } catch {
      continue; // not a usable secret: try the next one
    }
    if (offered.some((s) => sameText(s, expected))) {
      verified = true;
      break;
    }
  }
  if (!verified) throw new DvdWebhookError('signature', 'no valid signature for the configured secret');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DvdWebhookError('malformed', 'the delivery body is not JSON');
  }
  const envelope = ExportWebhookSchema.safeParse(parsed);
  if (!envelope.success) throw new DvdWebhookError('malformed', 'the delivery is not an export.package envelope');
  if (envelope.data.data.jobId !== id) throw new DvdWebhookError('malformed', 'webhook-id and the job id differ');
  return { webhookId: id, signature, timestamp: new Date(Number(ts) * 1000), envelope: envelope.data };
}

export interface ManifestFile {
  size: number;
  sha256: string;
}
export interface Manifest {
  format: string;
  jobId: string;
  exportedAt: string;
  document: Record<string, unknown> & { id: string; authorityId: string; referenceNumber: string };
  threads: Array<Record<string, unknown> & { id: string; messages: Array<{ id: string; sha256: string }> }>;
  files: Record<string, ManifestFile>;
}

export interface UnpackedPackage {
  manifest: Manifest;
  /** The three files, byte for byte as packaged. */
  files: Record<(typeof PACKAGE_FILES)[number], Uint8Array>;
}

/**
 * Unpacks an export package (ZIP) and checks it: the ZIP's sha256 and size against the
 * envelope, exactly the files `manifest.json`, `payload.jwe`, `messages.json` (each at most
 * `maxFileBytes` unpacked), every file's size and sha256 against the manifest, and every
 * message's sha256 in the manifest against the message in `messages.json`.
 */
export async function unpackExportPackage(envelope: ExportWebhook, o: { maxFileBytes?: number } = {}): Promise<UnpackedPackage> {
  const zip = base64Bytes(envelope.data.package.base64);
  if (zip.length !== envelope.data.package.size || (await sha256Hex(zip)) !== envelope.data.package.sha256) {
    throw new DvdIntegrityError('the package does not match the size and sha256 of the envelope');
  }
  const max = o.maxFileBytes ?? DEFAULT_MAX_DELIVERY_BYTES;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip, {
      filter: (f) => {
        if (!(PACKAGE_FILES as readonly string[]).includes(f.name))
          throw new DvdIntegrityError(`unexpected file in the package: ${f.name.slice(0, 100)}`);
        if (f.originalSize > max) throw new DvdIntegrityError(`${f.name} is larger than ${max} bytes unpacked`);
        return true;
      },
    });
  } catch (err) {
    if (err instanceof DvdIntegrityError) throw err;
    throw new DvdIntegrityError('the package is not a readable ZIP', { cause: err });
  }
  for (const name of PACKAGE_FILES) if (!entries[name]) throw new DvdIntegrityError(`the package has no ${name}`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(utf8(entries['manifest.json'])) as Manifest;
  } catch {
    throw new DvdIntegrityError('manifest.json is not JSON');
  }
  if (manifest.format !== 'dvd-export/1' || typeof manifest.files !== 'object' || !Array.isArray(manifest.threads)) {
    throw new DvdIntegrityError(`unknown package format ${String(manifest.format).slice(0, 50)}`);
  }
  for (const name of ['payload.jwe', 'messages.json'] as const) {
    const expected = manifest.files[name];
    const bytes = entries[name];
    if (!expected || bytes.length !== expected.size || (await sha256Hex(bytes)) !== expected.sha256) {
      throw new DvdIntegrityError(`${name} does not match its sha256 in the manifest`);
    }
  }
  let messages: { threads: Array<{ id: string; messages: Array<{ id: string; contentBlob: string }> }> };
  try {
    messages = JSON.parse(utf8(entries['messages.json']));
  } catch {
    throw new DvdIntegrityError('messages.json is not JSON');
  }
  const blobs = new Map<string, string>();
  for (const t of messages.threads ?? []) for (const m of t.messages ?? []) blobs.set(m.id, m.contentBlob);
  let listed = 0;
  for (const t of manifest.threads) {
    for (const m of t.messages ?? []) {
      listed++;
      const blob = blobs.get(m.id);
      if (blob === undefined || (await sha256Hex(blob)) !== m.sha256) {
        throw new DvdIntegrityError(`message ${String(m.id).slice(0, 40)} does not match its sha256 in the manifest`);
      }
    }
  }
  if (listed !== blobs.size) throw new DvdIntegrityError('messages.json holds messages the manifest does not list');
  return {
    manifest,
    files: { 'manifest.json': entries['manifest.json'], 'payload.jwe': entries['payload.jwe'], 'messages.json': entries['messages.json'] },
  };
}

function base64Bytes(b64: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new DvdIntegrityError('the package is not valid base64');
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export type DeliveryDecision =
  | { kind: 'accepted'; delivery: VerifiedDelivery; unpacked: UnpackedPackage }
  | { kind: 'duplicate'; delivery: VerifiedDelivery; receipt: Record<string, unknown> };

/**
 * The whole receiving side but storage: verify, refuse a verbatim replay (a webhook-id with a
 * signature already accepted → DvdWebhookError `replayed`), acknowledge a re-signed retry of
 * an accepted package as a duplicate (the sender lost our answer), and unpack a new one.
 */
export async function receiveExportDelivery(o: {
  body: string | Uint8Array;
  headers: HeaderBag;
  secrets: string | string[];
  log: DeliveryLog;
  toleranceSeconds?: number;
  maxBytes?: number;
}): Promise<DeliveryDecision> {
  const delivery = verifyExportDelivery(o);
  const earlier = await o.log.get(delivery.webhookId);
  if (earlier) {
    if (earlier.signatures.includes(delivery.signature)) throw new DvdWebhookError('replayed', 'this delivery was received before');
    if (earlier.packageSha256 !== delivery.envelope.data.package.sha256) {
      throw new DvdWebhookError('replayed', 'this webhook-id was received before with another package');
    }
    await o.log.put(delivery.webhookId, { ...earlier, signatures: [...earlier.signatures, delivery.signature] });
    return { kind: 'duplicate', delivery, receipt: earlier.receipt };
  }
  return { kind: 'accepted', delivery, unpacked: await unpackExportPackage(delivery.envelope, { maxFileBytes: o.maxBytes }) };
}
