import { sha256Hex, sleep, toBytes, type BytesLike } from './bytes';
import { DvdCryptoError, DvdIntegrityError, DvdProblemError } from './errors';
import { openEventStream, watchEvents, type DvdStreamItem, type WatchOptions } from './events';
import { Transport, type TransportOptions } from './http';
import { decryptMessage, decryptWith, encryptForBytes, encryptMessage, type DecryptionKey } from './jwe';
import { verifyReceipt, type VerifiedReceipt, type VerifyReceiptOptions } from './receipts';
import { postForm, readBody, type ProgressListener } from './upload';
import type {
  AppointmentConfirm,
  Authority,
  AuthorityCreate,
  AuthorityPatch,
  DeadLetter,
  DeadLetterListParams,
  DeadLetterPage,
  DeadLetterReplayed,
  DocumentCreated,
  DocumentForwarded,
  DocumentHistoryPage,
  DocumentHistoryParams,
  DocumentListParams,
  DocumentMetadata,
  DocumentPage,
  DocumentReceipt,
  DocumentReject,
  DvdDocument,
  EventTicket,
  ExportAccepted,
  ExportJob,
  IngestSecretList,
  IngestSecretRotation,
  Jwk,
  JwkInput,
  Jwks,
  Message,
  MessageListParams,
  MessagePage,
  PageParams,
  ReceiptJwks,
  RoutingRule,
  RoutingResult,
  RoutingRuleInput,
  RoutingRulePage,
  ServiceWithDeadLetters,
  Thread,
  ThreadCreate,
  ThreadListParams,
  ThreadPage,
  UnitCreate,
  UnitCreated,
  UnroutableListParams,
  UnroutablePage,
} from './types';
import type { JWK } from 'jose';
import type { Page } from '@dvd/contracts';

export type DvdClientOptions = TransportOptions;

export interface SendDocumentOptions {
  /** The file's bytes (or text, a Blob, an ArrayBuffer). */
  file: BytesLike;
  /** The metadata; `replyKey` may be any public JWK (e.g. `generateReplyKeyPair().publicJwk`). */
  metadata: Omit<DocumentMetadata, 'replyKey'> & { replyKey?: JWK };
  /** The key to encrypt for; default: the authority's newest active key. */
  recipientKey?: JWK;
  /** Sent as `Idempotency-Key` on every attempt (default: a fresh UUID). */
  idempotencyKey?: string;
  onProgress?: ProgressListener;
  /** Called with each stage: `keys`, `encrypting`, `uploading`, `verifying`. */
  onStage?: (stage: 'keys' | 'encrypting' | 'uploading' | 'verifying') => void;
  signal?: AbortSignal;
}

export interface SendResult {
  document: DvdDocument;
  /** The platform's signed receipt (verify it with `verifyReceipt`). */
  receipt: string;
  /** The `kid` the payload was encrypted for. */
  kid: string;
  /** SHA-256 of the uploaded container, as computed here and confirmed by the platform. */
  sha256: string;
  idempotencyKey: string;
}

/**
 * `forwardDocument`: either the container already encrypted for the target authority, or the
 * authority's private key, with which the SDK downloads the payload, checks it against its
 * recorded sha256, decrypts it and encrypts it again for the target's newest key.
 */
export type ForwardOptions = {
  targetAuthorityId: string;
  /** Sent as `Idempotency-Key` on every attempt (default: a fresh UUID). */
  idempotencyKey?: string;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
} & (
  | { encryptedPayload: string | Uint8Array; privateKey?: never }
  | {
      /** The private key(s) of the document's authority. */
      privateKey: DecryptionKey;
      /** The target key to encrypt for; default: the target authority's newest active key. */
      recipientKey?: JWK;
      encryptedPayload?: never;
    }
);

export interface OpenedDocument {
  document: DvdDocument;
  /** The decrypted file. */
  plaintext: Uint8Array;
}

export interface DecryptedMessage {
  message: Message;
  /** The decrypted text; `null` when this key cannot open it (e.g. the platform's own copy to the other side). */
  text: string | null;
}

const enc = encodeURIComponent;
/** A calendar file holds one event: a few hundred bytes. */
const MAX_CALENDAR_BYTES = 64 * 1024;

/** Pages through a cursor-paged list. */
async function* pages<T>(load: (cursor?: string) => Promise<Page<T>>): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = await load(cursor);
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

const JOSE = 'application/jose';

/**
 * A file encrypted for a key, as the Blob to upload, with the sha256 and size the platform
 * must report back. The container's bytes exist once besides the Blob, and only in here.
 */
async function sealed(plaintext: Uint8Array, key: Parameters<typeof encryptForBytes>[1]) {
  const bytes = await encryptForBytes(plaintext, key);
  // hashed before the Blob is made: the digest's own copy of the container is gone before the
  // Blob takes its copy (one container less at the peak of a send)
  const sha256 = await sha256Hex(bytes);
  return { container: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: JOSE }), sha256, size: bytes.length };
}

/**
 * The DirektVermittlungDe API. One method per operation of the contract (named by its
 * `operationId`), plus what a client does around them: encrypt and send, download and open,
 * write and read encrypted messages, wait for an export. Every failure is a DvdError.
 */
export class DvdClient {
  readonly http: Transport;

  constructor(options: DvdClientOptions) {
    this.http = new Transport(options);
  }

  // ── events ───────────────────────────────────────────────────────────────────────────
  /**
   * What happens to the caller's documents, as it happens (`GET /events`, Server-Sent
   * Events): `for await (const e of client.watchEvents()) …`. Reconnects and resumes by
   * itself (see `watchEvents` in events.ts); `reset` means: reload what you show.
   */
  watchEvents(o: WatchOptions = {}): AsyncGenerator<DvdStreamItem, void, undefined> {
    return watchEvents(this.http, o);
  }

  /** The stream, opened once (retried like any GET): its response's body is the raw Server-Sent Events. `watchEvents` reads it for you. */
  streamEvents(o: { unitId?: string; lastEventId?: string; signal?: AbortSignal } = {}): Promise<Response> {
    return openEventStream(this.http, o);
  }

  /**
   * Browsers: a single-use ticket (valid 30 s) for an `EventSource`, which cannot send the
   * token in a header: `new EventSource(client.eventSourceUrl(ticket))`.
   */
  createEventTicket(): Promise<EventTicket> {
    return this.http.json('POST', '/events/tickets');
  }

  /** The stream's URL for an `EventSource` with a ticket; `lastEventId` resumes (a new EventSource cannot send the header). */
  eventSourceUrl(ticket: string, o: { unitId?: string; lastEventId?: string } = {}): string {
    return this.http.url('/events', { ticket, unitId: o.unitId, lastEventId: o.lastEventId });
  }

  // ── authorities ──────────────────────────────────────────────────────────────────────
  createAuthority(input: AuthorityCreate): Promise<Authority> {
    return this.http.json('POST', '/authorities', { json: input });
  }
  getAuthority(id: string): Promise<Authority> {
    return this.http.json('GET', `/authorities/${enc(id)}`);
  }
  updateAuthority(id: string, patch: AuthorityPatch): Promise<Authority> {
    return this.http.json('PATCH', `/authorities/${enc(id)}`, { json: patch });
  }
  rotateIngestSecret(id: string, input: IngestSecretRotation): Promise<IngestSecretList> {
    return this.http.json('POST', `/authorities/${enc(id)}/ingest-secret`, { json: input });
  }
  createUnit(authorityId: string, unit: UnitCreate): Promise<UnitCreated> {
    return this.http.json('POST', `/authorities/${enc(authorityId)}/units`, { json: unit });
  }
  listAuthorityKeys(authorityId: string): Promise<Jwks> {
    return this.http.json('GET', `/authorities/${enc(authorityId)}/keys`);
  }
  addAuthorityKey(authorityId: string, publicJwk: JwkInput | JWK): Promise<Jwk> {
    return this.http.json('POST', `/authorities/${enc(authorityId)}/keys`, { json: publicJwk });
  }
  async retireAuthorityKey(authorityId: string, kid: string): Promise<void> {
    await this.http.request('DELETE', `/authorities/${enc(authorityId)}/keys/${enc(kid)}`);
  }
  listRoutingRules(authorityId: string, page: PageParams = {}): Promise<RoutingRulePage> {
    return this.http.json('GET', `/authorities/${enc(authorityId)}/routing-rules`, { query: page });
  }
  createRoutingRule(authorityId: string, rule: RoutingRuleInput): Promise<RoutingRule> {
    return this.http.json('POST', `/authorities/${enc(authorityId)}/routing-rules`, { json: rule });
  }
  replaceRoutingRule(authorityId: string, ruleId: string, rule: RoutingRuleInput): Promise<RoutingRule> {
    return this.http.json('PUT', `/authorities/${enc(authorityId)}/routing-rules/${enc(ruleId)}`, { json: rule });
  }
  async deleteRoutingRule(authorityId: string, ruleId: string): Promise<void> {
    await this.http.request('DELETE', `/authorities/${enc(authorityId)}/routing-rules/${enc(ruleId)}`);
  }

  /** The authority's newest active key (the one new documents should be encrypted for). */
  async authorityKey(authorityId: string): Promise<Jwk> {
    const { keys } = await this.listAuthorityKeys(authorityId);
    const usable = keys.filter((k) => typeof k.kid === 'string' && k.kid.length > 0);
    if (usable.length === 0) throw new DvdCryptoError(`authority ${authorityId} has no active encryption key`);
    return usable[usable.length - 1];
  }

  // ── documents ────────────────────────────────────────────────────────────────────────
  /**
   * Uploads an already encrypted container (multipart: `metadata`, then `encryptedPayload`).
   * Retried on 429/503/network errors with the same Idempotency-Key, so it is stored once.
   */
  async createDocument(
    metadata: DocumentMetadata,
    jwe: string | Uint8Array | Blob,
    o: { idempotencyKey?: string; onProgress?: ProgressListener; signal?: AbortSignal } = {},
  ): Promise<DocumentCreated> {
    const key = o.idempotencyKey ?? crypto.randomUUID();
    // one Blob for every attempt (a Blob copies bytes and strings it is made of, not another Blob)
    const payload =
      jwe instanceof Blob && jwe.type === JOSE
        ? jwe
        : new Blob([typeof jwe === 'string' || jwe instanceof Blob ? jwe : (jwe as Uint8Array<ArrayBuffer>)], { type: JOSE });
    return this.http.withRetries(
      true,
      async () => {
        const form = new FormData();
        // the declared size lets the platform stream the payload to storage in one piece (ADR 0026)
        form.append('metadata', JSON.stringify({ ...metadata, payloadSize: payload.size }));
        form.append('encryptedPayload', payload, 'payload.jwe');
        const res = await postForm(this.http, '/documents', form, {
          headers: { 'idempotency-key': key },
          onProgress: o.onProgress,
          signal: o.signal,
        });
        return (await res.json()) as DocumentCreated;
      },
      o.signal,
    );
  }

  /**
   * Encrypts a file on this device for the authority's key and uploads it; checks that the
   * platform stored exactly the bytes sent (sha256 and size).
   */
  async sendDocument(o: SendDocumentOptions): Promise<SendResult> {
    o.onStage?.('keys');
    const key = o.recipientKey ?? (await this.authorityKey(o.metadata.authorityId));
    o.onStage?.('encrypting');
    const { container, sha256, size } = await sealed(await toBytes(o.file), key);
    const idempotencyKey = o.idempotencyKey ?? crypto.randomUUID();
    o.onStage?.('uploading');
    const { receipt, ...document } = await this.createDocument(o.metadata as DocumentMetadata, container, {
      idempotencyKey,
      onProgress: o.onProgress,
      signal: o.signal,
    });
    o.onStage?.('verifying');
    if (document.payload.sha256 !== sha256 || document.payload.size !== size) {
      throw new DvdIntegrityError(`the platform stored other bytes than were sent (document ${document.id})`);
    }
    return { document, receipt, kid: key.kid!, sha256, idempotencyKey };
  }

  listDocuments(query: DocumentListParams = {}): Promise<DocumentPage> {
    return this.http.json('GET', '/documents', { query });
  }
  /** Every document the caller may see, page by page. */
  documents(query: Omit<DocumentListParams, 'cursor'> = {}): AsyncGenerator<DvdDocument> {
    return pages((cursor) => this.listDocuments({ ...query, cursor }));
  }
  getDocument(id: string): Promise<DvdDocument> {
    return this.http.json('GET', `/documents/${enc(id)}`);
  }

  /**
   * Routes a document again by its authority's current rules (admins; platform admins any
   * document). Safe to repeat: the same unit again answers `changed: false`. 409 once a thread
   * of it was claimed, it was decided or exported.
   */
  rerouteDocument(id: string): Promise<RoutingResult> {
    return this.http.json('POST', `/documents/${enc(id)}/reroute`, { idempotent: true });
  }

  /** The stored container's bytes, checked against `expected` (size and sha256) when given. */
  async getDocumentPayload(
    id: string,
    o: { expected?: { size: number; sha256: string }; onProgress?: ProgressListener; signal?: AbortSignal } = {},
  ): Promise<Uint8Array> {
    const bytes = await this.http.withRetries(
      true,
      async () => {
        const { response } = await this.http.request('GET', `/documents/${enc(id)}/payload`, {
          headers: { accept: 'application/jose, application/octet-stream, application/json' },
          signal: o.signal,
          // retried here, around the whole download
          noRetry: true,
        });
        return readBody(response, {
          onProgress: o.onProgress,
          maxBytes: o.expected?.size,
          // more bytes than recorded is no network failure: asking again would bring the same
          tooLarge: () => new DvdIntegrityError(`the payload of document ${id} is larger than its recorded size`),
        });
      },
      o.signal,
    );
    if (o.expected) {
      const sha = await sha256Hex(bytes);
      if (bytes.length !== o.expected.size || sha !== o.expected.sha256) {
        throw new DvdIntegrityError(`the payload of document ${id} does not match its recorded sha256`);
      }
    }
    return bytes;
  }

  /** Downloads a document's payload, verifies it against the recorded sha256 and decrypts it. */
  async openDocument(
    id: string,
    key: DecryptionKey,
    o: { onProgress?: ProgressListener; signal?: AbortSignal } = {},
  ): Promise<OpenedDocument> {
    const document = await this.getDocument(id);
    // the container's bytes are let go once they are text: not held while it is decrypted
    const jwe = new TextDecoder().decode(
      await this.getDocumentPayload(id, { expected: document.payload, onProgress: o.onProgress, signal: o.signal }),
    );
    const plaintext = await decryptWith(jwe, key);
    return { document, plaintext };
  }

  // ── receipts ─────────────────────────────────────────────────────────────────────────
  getDocumentReceipt(id: string): Promise<DocumentReceipt> {
    return this.http.json('GET', `/documents/${enc(id)}/receipt`);
  }
  /** The platform's receipt signing keys: public, from the gateway's root (`/.well-known/jwks.json`), no token. */
  getReceiptSigningKeys(): Promise<ReceiptJwks> {
    return this.http.json('GET', '/.well-known/jwks.json', { root: true, anonymous: true });
  }
  /** Verifies a receipt with this platform's receipt keys (see the standalone `verifyReceipt`). */
  async verifyReceipt(receipt: string, o: Omit<VerifyReceiptOptions, 'fetch'> = {}): Promise<VerifiedReceipt> {
    return verifyReceipt(receipt, await this.getReceiptSigningKeys(), o);
  }

  // ── decisions and history ────────────────────────────────────────────────────────────
  getDocumentHistory(id: string, query: DocumentHistoryParams = {}): Promise<DocumentHistoryPage> {
    return this.http.json('GET', `/documents/${enc(id)}/history`, { query });
  }
  /** Accepting again is harmless (the document as it is): safe to retry. */
  acceptDocument(id: string): Promise<DvdDocument> {
    return this.http.json('POST', `/documents/${enc(id)}/accept`, { idempotent: true });
  }
  /** `note` must already be a JWE for the citizen (see `rejectDocumentWithNote`). Rejecting again with the same reason is harmless. */
  rejectDocument(id: string, input: DocumentReject): Promise<DvdDocument> {
    return this.http.json('POST', `/documents/${enc(id)}/reject`, { json: input, idempotent: true });
  }
  /** Rejects with a note encrypted on this device to the citizen's reply key (an official sees `replyKey`). */
  async rejectDocumentWithNote(id: string, reasonCode: DocumentReject['reasonCode'], note: string): Promise<DvdDocument> {
    const document = await this.getDocument(id);
    if (!document.replyKey) throw new DvdCryptoError(`document ${id} has no reply key: the citizen cannot read a note`);
    return this.rejectDocument(id, { reasonCode, note: await encryptMessage({ text: note }, document.replyKey as JWK) });
  }

  /**
   * Forwards a document to the responsible authority. With `privateKey`: downloads the payload,
   * checks it against its recorded sha256, decrypts it here, encrypts it for the target's newest
   * key (or `recipientKey`) and uploads it; with `encryptedPayload`: uploads that container.
   * Retried with the same Idempotency-Key; checks that the platform stored exactly the bytes sent.
   */
  async forwardDocument(id: string, o: ForwardOptions): Promise<DocumentForwarded> {
    let container: Uint8Array;
    if (o.privateKey !== undefined) {
      const document = await this.getDocument(id);
      const stored = await this.getDocumentPayload(id, { expected: document.payload, signal: o.signal });
      const plaintext = await decryptWith(new TextDecoder().decode(stored), o.privateKey);
      const key = o.recipientKey ?? (await this.authorityKey(o.targetAuthorityId));
      container = await encryptForBytes(plaintext, key);
    } else {
      container = typeof o.encryptedPayload === 'string' ? new TextEncoder().encode(o.encryptedPayload) : o.encryptedPayload;
    }
    const sha256 = await sha256Hex(container);
    const key = o.idempotencyKey ?? crypto.randomUUID();
    const result = await this.http.withRetries(
      true,
      async () => {
        const form = new FormData();
        form.append('metadata', JSON.stringify({ targetAuthorityId: o.targetAuthorityId, payloadSize: container.length }));
        form.append('encryptedPayload', new Blob([container as Uint8Array<ArrayBuffer>], { type: 'application/jose' }), 'payload.jwe');
        const res = await postForm(this.http, `/documents/${enc(id)}/forward`, form, {
          headers: { 'idempotency-key': key },
          onProgress: o.onProgress,
          signal: o.signal,
        });
        return (await res.json()) as DocumentForwarded;
      },
      o.signal,
    );
    if (result.forwarded.payload.sha256 !== sha256 || result.forwarded.payload.size !== container.length) {
      throw new DvdIntegrityError(`the platform stored other bytes than were sent (forward of document ${id})`);
    }
    return result;
  }

  listUnroutableDocuments(query: UnroutableListParams = {}): Promise<UnroutablePage> {
    return this.http.json('GET', '/admin/unroutable-documents', { query });
  }
  listDeadLetters(service: ServiceWithDeadLetters, query: DeadLetterListParams = {}): Promise<DeadLetterPage> {
    return this.http.json('GET', `/admin/dead-letters/${enc(service)}`, { query });
  }
  getDeadLetter(service: ServiceWithDeadLetters, eventId: string): Promise<DeadLetter> {
    return this.http.json('GET', `/admin/dead-letters/${enc(service)}/${enc(eventId)}`);
  }
  async deleteDeadLetter(service: ServiceWithDeadLetters, eventId: string): Promise<void> {
    await this.http.request('DELETE', `/admin/dead-letters/${enc(service)}/${enc(eventId)}`);
  }
  replayDeadLetter(service: ServiceWithDeadLetters, eventId: string): Promise<DeadLetterReplayed> {
    return this.http.json('POST', `/admin/dead-letters/${enc(service)}/${enc(eventId)}/replay`, { idempotent: true });
  }

  // ── threads and messages ─────────────────────────────────────────────────────────────
  createThread(documentId: string, input: ThreadCreate): Promise<Thread> {
    return this.http.json('POST', `/documents/${enc(documentId)}/threads`, { json: input });
  }
  listThreads(query: ThreadListParams = {}): Promise<ThreadPage> {
    return this.http.json('GET', '/threads', { query });
  }
  threads(query: Omit<ThreadListParams, 'cursor'> = {}): AsyncGenerator<Thread> {
    return pages((cursor) => this.listThreads({ ...query, cursor }));
  }
  getThread(id: string): Promise<Thread> {
    return this.http.json('GET', `/threads/${enc(id)}`);
  }
  claimThread(id: string): Promise<Thread> {
    return this.http.json('POST', `/threads/${enc(id)}/claim`);
  }
  releaseThread(id: string): Promise<Thread> {
    return this.http.json('POST', `/threads/${enc(id)}/release`);
  }
  closeThread(id: string): Promise<Thread> {
    return this.http.json('POST', `/threads/${enc(id)}/close`);
  }
  confirmAppointment(id: string, slot: AppointmentConfirm): Promise<Thread> {
    return this.http.json('POST', `/threads/${enc(id)}/appointment/confirm`, { json: slot });
  }
  /** Cancels the confirmed slot (the citizen, the official who proposed the slots, the assignee, or an admin); nothing confirmed: unchanged. */
  cancelAppointment(id: string): Promise<Thread> {
    return this.http.json('POST', `/threads/${enc(id)}/appointment/cancel`);
  }
  /**
   * The confirmed appointment as an iCalendar file (RFC 5545 text with CRLF line ends: save it
   * as `.ics` byte for byte, or hand it to a calendar). The same `UID` on every download, so a
   * calendar updates its entry on a new import. Throws DvdProblemError `appointment-not-confirmed`
   * (409) while no slot is confirmed.
   */
  async getAppointmentCalendar(id: string, o: { signal?: AbortSignal } = {}): Promise<string> {
    return this.http.withRetries(
      true,
      async () => {
        const { response } = await this.http.request('GET', `/threads/${enc(id)}/appointment.ics`, {
          headers: { accept: 'text/calendar, application/problem+json' },
          signal: o.signal,
          // retried here, around the whole download
          noRetry: true,
        });
        if (!/^text\/calendar\b/i.test(response.headers.get('content-type') ?? '')) {
          await response.body?.cancel().catch(() => undefined);
          throw new DvdIntegrityError(`the answer for the appointment of thread ${id} is not a calendar file`);
        }
        const bytes = await readBody(response, {
          maxBytes: MAX_CALENDAR_BYTES,
          tooLarge: () => new DvdIntegrityError(`the calendar file of thread ${id} is larger than ${MAX_CALENDAR_BYTES} bytes`),
        });
        return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      },
      o.signal,
    );
  }
  postMessage(threadId: string, contentBlob: string): Promise<Message> {
    return this.http.json('POST', `/threads/${enc(threadId)}/messages`, { json: { contentBlob } });
  }
  listMessages(threadId: string, query: MessageListParams = {}): Promise<MessagePage> {
    return this.http.json('GET', `/threads/${enc(threadId)}/messages`, { query });
  }

  /**
   * Encrypts `text` to the other party and posts it: to `recipientKey` when given; otherwise
   * an official writes to the document's `replyKey` and a citizen to the authority's key.
   */
  async sendMessage(threadId: string, text: string, o: { recipientKey?: JWK } = {}): Promise<Message> {
    let key = o.recipientKey;
    if (!key) {
      const thread = await this.getThread(threadId);
      const document = await this.getDocument(thread.documentId);
      key = document.replyKey ?? (await this.authorityKey(document.authorityId));
    }
    return this.postMessage(threadId, await encryptMessage({ text }, key));
  }

  /** Every message of a thread, oldest first, decrypted where `key` can open it. */
  async *readMessages(
    threadId: string,
    key: DecryptionKey,
    query: Omit<MessageListParams, 'cursor'> = {},
  ): AsyncGenerator<DecryptedMessage> {
    for await (const message of pages((cursor) => this.listMessages(threadId, { ...query, cursor }))) {
      let text: string | null = null;
      try {
        text = (await decryptMessage(message.contentBlob, key)).text;
      } catch (err) {
        if (!(err instanceof DvdCryptoError)) throw err;
      }
      yield { message, text };
    }
  }

  // ── exports ──────────────────────────────────────────────────────────────────────────
  createExport(documentId: string): Promise<ExportAccepted> {
    // one export at a time per document: a repeat answers with the job already under way
    return this.http.json('POST', '/exports', { json: { documentId }, idempotent: true });
  }
  getExport(jobId: string): Promise<ExportJob> {
    return this.http.json('GET', `/exports/${enc(jobId)}`);
  }
  /** Polls the job until it is COMPLETED or FAILED (or `timeoutMs` passes: DvdProblemError 408-like timeout). */
  async waitForExport(
    jobId: string,
    o: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal; onStatus?: (job: ExportJob) => void } = {},
  ): Promise<ExportJob> {
    const deadline = Date.now() + (o.timeoutMs ?? 120_000);
    const interval = o.intervalMs ?? 500;
    for (;;) {
      const job = await this.getExport(jobId);
      o.onStatus?.(job);
      if (job.status === 'COMPLETED' || job.status === 'FAILED') return job;
      if (Date.now() + interval > deadline) {
        throw new DvdProblemError({
          type: 'about:blank',
          title: 'Timed out',
          status: 408,
          detail: `export ${jobId} is still ${job.status} after ${o.timeoutMs ?? 120_000} ms`,
        });
      }
      await sleep(interval, o.signal);
    }
  }
}
