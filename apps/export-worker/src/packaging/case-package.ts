import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import archiver from 'archiver';

export interface DocumentForExport {
  id: string;
  authorityId: string;
  unitId: string | null;
  referenceNumber: string;
  documentType: string;
  serviceKey: string | null;
  regionKey: string | null;
  createdAt: string;
  retentionDate: string;
  payload: { key: string; size: number; sha256: string; format: string };
}

export interface ThreadForExport {
  id: string;
  type: string;
  status: string;
  assignedOfficialId: string | null;
  callback: unknown;
  appointment: unknown;
  createdAt: string;
  lastActivityAt: string;
  messages: Array<{ id: string; senderRole: string; createdAt: string; contentBlob: string }>;
}

export interface BuiltPackage {
  path: string;
  size: number;
  sha256: string;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Hashes a file by streaming it. */
export async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    size += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { size, sha256: hash.digest('hex') };
}

/**
 * Builds the case package into a file, never holding it whole in memory: `payload.jwe`
 * streams from storage into the ZIP (hashed on the way and checked against the sha256
 * intake recorded), `messages.json` holds every thread with its encrypted messages oldest
 * first, and `manifest.json` — written last — lists the metadata and the sha256 of every file.
 */
export async function buildCasePackage(o: {
  path: string;
  jobId: string;
  document: DocumentForExport;
  threads: ThreadForExport[];
  payload: Readable;
}): Promise<BuiltPackage> {
  const archive = archiver('zip', { zlib: { level: 6 } });
  const out = createWriteStream(o.path, { mode: 0o600 });
  const written = new Promise<void>((resolve, reject) => {
    out.on('close', resolve);
    out.on('error', reject);
    archive.on('error', reject);
  });
  archive.pipe(out);

  const payloadHash = createHash('sha256');
  let payloadSize = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      payloadHash.update(chunk);
      payloadSize += chunk.length;
      cb(null, chunk);
    },
  });
  o.payload.on('error', (err) => hashing.destroy(err));
  const payloadDone = new Promise<void>((resolve, reject) => {
    archive.on('entry', (entry) => entry.name === 'payload.jwe' && resolve());
    archive.on('error', reject);
    hashing.on('error', reject);
  });
  archive.append(o.payload.pipe(hashing), { name: 'payload.jwe' });

  const sortedThreads = [...o.threads].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  const messagesJson = Buffer.from(
    JSON.stringify(
      {
        documentId: o.document.id,
        threads: sortedThreads.map((t) => ({
          ...t,
          messages: [...t.messages].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)),
        })),
      },
      null,
      2,
    ),
  );
  archive.append(messagesJson, { name: 'messages.json' });

  await payloadDone;
  const payloadSha = payloadHash.digest('hex');
  if (payloadSha !== o.document.payload.sha256 || payloadSize !== o.document.payload.size) {
    archive.abort();
    throw new Error('the stored payload does not match the sha256 recorded at upload');
  }
  const manifest = {
    format: 'dvd-export/1',
    jobId: o.jobId,
    exportedAt: new Date().toISOString(),
    document: {
      id: o.document.id,
      authorityId: o.document.authorityId,
      unitId: o.document.unitId,
      referenceNumber: o.document.referenceNumber,
      documentType: o.document.documentType,
      serviceKey: o.document.serviceKey,
      regionKey: o.document.regionKey,
      createdAt: o.document.createdAt,
      retentionDate: o.document.retentionDate,
      payloadFormat: o.document.payload.format,
    },
    threads: sortedThreads.map((t) => ({
      id: t.id,
      type: t.type,
      status: t.status,
      assignedOfficialId: t.assignedOfficialId,
      callback: t.callback,
      appointment: t.appointment,
      createdAt: t.createdAt,
      lastActivityAt: t.lastActivityAt,
      messages: t.messages.map((m) => ({
        id: m.id,
        senderRole: m.senderRole,
        createdAt: m.createdAt,
        sha256: sha256(Buffer.from(m.contentBlob)),
      })),
    })),
    files: {
      'payload.jwe': { size: payloadSize, sha256: payloadSha },
      'messages.json': { size: messagesJson.length, sha256: sha256(messagesJson) },
    },
  };
  archive.append(Buffer.from(JSON.stringify(manifest, null, 2)), { name: 'manifest.json' });
  await archive.finalize();
  await written;
  return { path: o.path, ...(await hashFile(o.path)) };
}
