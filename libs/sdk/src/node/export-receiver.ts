import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE } from '@dvd/contracts';
import { DvdIntegrityError, DvdWebhookError } from '../errors';
import {
  DEFAULT_MAX_DELIVERY_BYTES,
  receiveExportDelivery,
  type AcceptedDelivery,
  type DeliveryLog,
  type UnpackedPackage,
} from '../receiver';

const JOB_DIR = /^[0-9a-f-]{36}$/;

/** Remembers accepted deliveries beside their files (`<out>/<jobId>/.delivery.json`), so a restart forgets nothing. */
export class DirectoryDeliveryLog implements DeliveryLog {
  constructor(private readonly dir: string) {}
  async get(id: string): Promise<AcceptedDelivery | undefined> {
    if (!JOB_DIR.test(id)) return undefined;
    try {
      return JSON.parse(await readFile(join(this.dir, id, '.delivery.json'), 'utf8')) as AcceptedDelivery;
    } catch {
      return undefined;
    }
  }
  async put(id: string, accepted: AcceptedDelivery): Promise<void> {
    const file = join(this.dir, id, '.delivery.json');
    await writeFile(`${file}.tmp`, JSON.stringify(accepted), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }
}

export interface ExportReceiverOptions {
  /** The authority's ingest secret(s), `whsec_…`. */
  secrets: string | string[];
  /** Where each package is written: `<outDir>/<jobId>/{manifest.json,payload.jwe,messages.json}`. */
  outDir: string;
  /** The path deliveries are POSTed to (default: any). */
  path?: string;
  maxBytes?: number;
  toleranceSeconds?: number;
  /** Told about every outcome (for logs: ids and outcomes only, never contents). */
  onEvent?: (e: ReceiverEvent) => void;
}

export type ReceiverEvent =
  | { kind: 'accepted'; jobId: string; documentId: string; files: Record<string, { size: number; sha256: string }> }
  | { kind: 'duplicate'; jobId: string }
  | { kind: 'refused'; status: number; reason: string };

function problem(res: ServerResponse, status: number, code: string, title: string) {
  const body = JSON.stringify({ type: `${PROBLEM_TYPE_BASE}${code}`, title, status });
  res.writeHead(status, { 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function answer(res: ServerResponse, body: Record<string, unknown>) {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

class TooLarge extends Error {}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) throw new TooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > max) throw new TooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

async function store(outDir: string, jobId: string, unpacked: UnpackedPackage): Promise<void> {
  // written next to the final place, then renamed: a crash never leaves half a package
  const tmp = join(outDir, `.${jobId}.${process.pid}.tmp`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  for (const [name, bytes] of Object.entries(unpacked.files)) await writeFile(join(tmp, name), bytes, { mode: 0o600 });
  await rename(tmp, join(outDir, jobId));
}

/**
 * The reference export receiver: an HTTP handler that verifies Standard Webhooks deliveries
 * of export packages, checks every sha256, and writes each package into its own directory.
 * Answers: 200 with a receipt (also for a re-signed retry of a package already taken, marked
 * `duplicate`), 401 bad signature or timestamp, 409 verbatim replay, 400 malformed, 413 too
 * large, 422 a package that fails its manifest. Nothing is written unless all checks pass.
 */
export function exportReceiverHandler(o: ExportReceiverOptions) {
  const log = new DirectoryDeliveryLog(o.outDir);
  const maxBytes = o.maxBytes ?? DEFAULT_MAX_DELIVERY_BYTES;
  const refuse = (res: ServerResponse, status: number, code: string, title: string) => {
    o.onEvent?.({ kind: 'refused', status, reason: code });
    problem(res, status, code, title);
  };
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST' || (o.path && req.url?.split('?')[0] !== o.path)) return refuse(res, 404, 'not-found', 'Not Found');
    let body: Buffer;
    try {
      body = await readBody(req, maxBytes);
    } catch (err) {
      if (err instanceof TooLarge) {
        refuse(res, 413, 'payload-too-large', 'Content Too Large');
        req.destroy();
        return;
      }
      return refuse(res, 400, 'bad-request', 'The request body could not be read');
    }
    try {
      await mkdir(o.outDir, { recursive: true, mode: 0o700 });
      const decision = await receiveExportDelivery({
        body,
        headers: req.headers,
        secrets: o.secrets,
        log,
        maxBytes,
        toleranceSeconds: o.toleranceSeconds,
      });
      if (decision.kind === 'duplicate') {
        o.onEvent?.({ kind: 'duplicate', jobId: decision.delivery.webhookId });
        return answer(res, { ...decision.receipt, duplicate: true });
      }
      const { delivery, unpacked } = decision;
      const files = unpacked.manifest.files;
      const receipt = {
        received: true,
        jobId: delivery.webhookId,
        documentId: delivery.envelope.data.documentId,
        receivedAt: new Date().toISOString(),
        files,
      };
      await store(o.outDir, delivery.webhookId, unpacked);
      await log.put(delivery.webhookId, {
        signatures: [delivery.signature],
        packageSha256: delivery.envelope.data.package.sha256,
        receipt,
      });
      o.onEvent?.({ kind: 'accepted', jobId: delivery.webhookId, documentId: delivery.envelope.data.documentId, files });
      return answer(res, receipt);
    } catch (err) {
      if (err instanceof DvdWebhookError) {
        const [status, title] =
          err.reason === 'replayed'
            ? [409, 'Replayed delivery']
            : err.reason === 'malformed'
              ? [400, 'Malformed delivery']
              : err.reason === 'too-large'
                ? [413, 'Content Too Large']
                : [401, 'Signature or timestamp invalid'];
        return refuse(res, status, `webhook-${err.reason}`, title);
      }
      if (err instanceof DvdIntegrityError) return refuse(res, 422, 'package-invalid', 'The package fails its manifest');
      return refuse(res, 500, 'internal', 'The package could not be stored');
    }
  };
}

/** Starts the reference receiver on `port` (0: any free port). */
export async function startExportReceiver(o: ExportReceiverOptions & { port: number; host?: string }): Promise<Server> {
  const handler = exportReceiverHandler(o);
  const server = createServer((req, res) => void handler(req, res));
  server.requestTimeout = 120_000;
  // longer than any client's idle keep-alive: a client never reuses a socket the receiver is just closing (EPIPE)
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(o.port, o.host ?? '127.0.0.1', () => resolve()));
  return server;
}
