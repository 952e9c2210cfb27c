import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import archiver from 'archiver';
import { InternalCaseMessage, InternalCaseThread } from '@dvd/contracts';

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

/** A thread and a message as communication's internal case API answers them. */
export type ThreadForExport = InternalCaseThread;
export type MessageForExport = InternalCaseMessage;

/** Where a case's threads and messages come from, page by page (communication's internal API). */
export interface CaseSource {
  /** The document's threads, oldest first, in bounded pages. */
  threadPages(documentId: string): AsyncIterable<ThreadForExport[]>;
  /** A thread's messages, oldest first, in bounded pages. */
  messagePages(documentId: string, threadId: string): AsyncIterable<MessageForExport[]>;
}

export interface BuiltPackage {
  path: string;
  size: number;
  sha256: string;
}

/**
 * Why building a package failed — a category, never an underlying error's text (which may
 * carry URLs, keys or content). Each is worth a retry except `payload-mismatch`.
 */
export type PackagingFailure =
  /** The payload stream from object storage failed (or could not be opened). */
  | 'payload-unreadable'
  /** The stored payload's size or sha256 differs from what intake recorded at upload. */
  | 'payload-mismatch'
  /** Threads or messages could not be read from communication. */
  | 'messages-unavailable'
  /** The package file could not be written (disk full, temp directory gone). */
  | 'package-write-failed';

export class PackagingError extends Error {
  constructor(readonly category: PackagingFailure) {
    super(`the export package could not be built: ${category}`);
    this.name = 'PackagingError';
  }
}

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');

/** Counts and hashes what passes through. */
class Digest {
  private readonly hash = createHash('sha256');
  size = 0;
  update(chunk: Buffer) {
    this.hash.update(chunk);
    this.size += chunk.length;
  }
  hex() {
    return this.hash.digest('hex');
  }
  transform(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.update(chunk);
        cb(null, chunk);
      },
    });
  }
}

/** Writes to a stream, honouring backpressure. */
async function write(out: WriteStream, data: string): Promise<void> {
  if (out.write(data)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      out.off('drain', done);
      out.off('error', done);
      out.off('close', done);
      if (err) reject(err);
      else resolve();
    };
    out.on('drain', done).on('error', done).on('close', done);
  });
}

function closed(s: WriteStream): Promise<void> {
  return s.closed ? Promise.resolve() : new Promise((resolve) => s.once('close', () => resolve()));
}

function threadMeta(t: ThreadForExport) {
  return {
    id: t.id,
    type: t.type,
    status: t.status,
    assignedOfficialId: t.assignedOfficialId,
    callback: t.callback,
    appointment: t.appointment,
    createdAt: t.createdAt,
    lastActivityAt: t.lastActivityAt,
  };
}

/** `{...}` without its closing brace, so that a streamed member can follow. */
const openObject = (o: object) => JSON.stringify(o).slice(0, -1);

/**
 * Builds the case package into `dir/package.zip`, never holding the case in memory:
 *
 * - `payload.jwe` streams from storage into the ZIP, hashed on the way and checked against
 *   the size and sha256 intake recorded;
 * - `messages.json` (`{"documentId", "threads": [{…thread, "messages": […]}]}`, oldest
 *   first) is written as a stream, page by page from communication, hashed in the same
 *   pass; each message's sha256 goes to a spool file (`dir/manifest-threads.json`);
 * - `manifest.json` — last — streams the metadata, the spooled thread and message list and
 *   the sha256 of every file.
 *
 * Any failure rejects with a {@link PackagingError} only after the archiver is aborted and
 * every stream and file descriptor it opened is closed; the caller removes `dir`.
 */
export async function buildCasePackage(o: {
  dir: string;
  jobId: string;
  document: DocumentForExport;
  source: CaseSource;
  openPayload: () => Promise<Readable>;
}): Promise<BuiltPackage> {
  const path = join(o.dir, 'package.zip');
  const archive = archiver('zip', { zlib: { level: 6 } });
  const zipDigest = new Digest();
  const out = createWriteStream(path, { mode: 0o600 });
  const spool = createWriteStream(join(o.dir, 'manifest-threads.json'), { mode: 0o600 });
  const sources: Readable[] = [];

  // The first failure decides the category; everything waits on it as well as on progress.
  let failWith!: (err: PackagingError) => void;
  const failure = new Promise<never>((_resolve, reject) => {
    failWith = reject;
  });
  failure.catch(() => undefined);
  const guard = <T>(p: Promise<T>) => Promise.race([p, failure]);
  const failOn = (category: PackagingFailure) => () => failWith(new PackagingError(category));

  archive.on('error', failOn('package-write-failed'));
  out.on('error', failOn('package-write-failed'));
  spool.on('error', failOn('package-write-failed'));
  const written = new Promise<void>((resolve) => out.on('close', resolve));
  archive.pipe(zipDigest.transform()).on('error', failOn('package-write-failed')).pipe(out);

  const entryDone = (name: string) =>
    guard(new Promise<void>((resolve) => archive.on('entry', (entry: archiver.EntryData) => entry.name === name && resolve())));

  try {
    // payload.jwe
    const payloadDigest = new Digest();
    const payload = await guard(o.openPayload().catch(() => Promise.reject(new PackagingError('payload-unreadable'))));
    sources.push(payload);
    payload.on('error', failOn('payload-unreadable'));
    const hashing = payloadDigest.transform();
    sources.push(hashing);
    const payloadDone = entryDone('payload.jwe');
    archive.append(payload.pipe(hashing), { name: 'payload.jwe' });
    await payloadDone;
    const payloadSha = payloadDigest.hex();
    if (payloadSha !== o.document.payload.sha256 || payloadDigest.size !== o.document.payload.size) {
      throw new PackagingError('payload-mismatch');
    }

    // messages.json, streamed page by page; the manifest's thread list goes to the spool
    const messagesDigest = new Digest();
    const messages = Readable.from(messagesJson(o.document.id, o.source, spool, messagesDigest));
    sources.push(messages);
    messages.on('error', (err) => failWith(err instanceof PackagingError ? err : new PackagingError('messages-unavailable')));
    const messagesDone = entryDone('messages.json');
    archive.append(messages, { name: 'messages.json' });
    await messagesDone;
    spool.end();
    await guard(closed(spool));
    const files = {
      'payload.jwe': { size: payloadDigest.size, sha256: payloadSha },
      'messages.json': { size: messagesDigest.size, sha256: messagesDigest.hex() },
    };

    // manifest.json
    const head = {
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
    };
    const spooled = createReadStream(spool.path);
    sources.push(spooled);
    spooled.on('error', failOn('package-write-failed'));
    const manifest = Readable.from(
      (async function* () {
        yield Buffer.from(`${openObject(head)},"threads":[`);
        for await (const chunk of spooled) yield chunk as Buffer;
        yield Buffer.from(`],"files":${JSON.stringify(files)}}\n`);
      })(),
    );
    sources.push(manifest);
    manifest.on('error', failOn('package-write-failed'));
    archive.append(manifest, { name: 'manifest.json' });
    await guard(archive.finalize());
    await guard(written);
    return { path, size: zipDigest.size, sha256: zipDigest.hex() };
  } catch (err) {
    // Abort alone leaves an archiver with an entry in flight neither failed nor finished:
    // detach and destroy everything, and wait until the files are really closed.
    archive.abort();
    archive.unpipe();
    archive.destroy();
    for (const s of sources) s.destroy();
    out.destroy();
    spool.destroy();
    await Promise.all([closed(out), closed(spool)]);
    throw err instanceof PackagingError ? err : new PackagingError('package-write-failed');
  }
}

/**
 * The text of messages.json, in chunks of one page: `{"documentId":…,"threads":[{…thread,
 * "messages":[…]}]}`. Writes the manifest's matching thread list (message ids, roles,
 * times and the sha256 of each contentBlob) to `spool` on the way.
 */
async function* messagesJson(documentId: string, source: CaseSource, spool: WriteStream, digest: Digest): AsyncGenerator<Buffer> {
  const emit = (text: string) => {
    const chunk = Buffer.from(text);
    digest.update(chunk);
    return chunk;
  };
  const read = async <T>(pages: AsyncIterator<T[]>): Promise<IteratorResult<T[]>> => {
    try {
      return await pages.next();
    } catch {
      throw new PackagingError('messages-unavailable');
    }
  };
  yield emit(`{"documentId":${JSON.stringify(documentId)},"threads":[`);
  let threadCount = 0;
  const threadPages = source.threadPages(documentId)[Symbol.asyncIterator]();
  for (let tp = await read(threadPages); !tp.done; tp = await read(threadPages)) {
    for (const thread of tp.value) {
      const meta = openObject(threadMeta(thread));
      const sep = threadCount++ ? ',' : '';
      yield emit(`${sep}\n${meta},"messages":[`);
      await write(spool, `${sep}\n${meta},"messages":[`);
      let messageCount = 0;
      const messagePages = source.messagePages(documentId, thread.id)[Symbol.asyncIterator]();
      for (let mp = await read(messagePages); !mp.done; mp = await read(messagePages)) {
        let text = '';
        let index = '';
        for (const m of mp.value) {
          const comma = messageCount++ ? ',' : '';
          text += `${comma}\n${JSON.stringify({ id: m.id, senderRole: m.senderRole, createdAt: m.createdAt, contentBlob: m.contentBlob })}`;
          index += `${comma}${JSON.stringify({ id: m.id, senderRole: m.senderRole, createdAt: m.createdAt, sha256: sha256(m.contentBlob) })}`;
        }
        if (text) yield emit(text);
        if (index) await write(spool, index);
      }
      yield emit(']}');
      await write(spool, ']}');
    }
  }
  yield emit('\n]}\n');
}
