import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { strToU8, zipSync } from 'fflate';
import { Webhook } from 'standardwebhooks';
import { DvdIntegrityError, DvdWebhookError } from './errors';
import { decryptMessage, decryptWith, encryptFor, encryptMessage } from './jwe';
import { generateAuthorityKeyPair, generateReplyKeyPair, type KeyPair } from './keys';
import {
  MemoryDeliveryLog,
  receiveExportDelivery,
  unpackExportPackage,
  verifyExportDelivery,
  type DeliveryDecision,
  type HeaderBag,
} from './receiver';
import { byteDifference } from './testing/webcrypto-jwe';
import type { ExportWebhook } from './types';

/**
 * The receiving side of an export delivery, fed with packages built the way export-worker
 * builds them (apps/export-worker/src/packaging/case-package.ts) and envelopes signed with
 * Standard Webhooks (libs/contracts ExportWebhookSchema).
 */

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

interface CaseMessage {
  id: string;
  senderRole: string;
  createdAt: string;
  contentBlob: string;
}
interface CaseThread {
  id: string;
  type: string;
  status: string;
  assignedOfficialId: string | null;
  callback: unknown;
  appointment: unknown;
  createdAt: string;
  lastActivityAt: string;
  messages: CaseMessage[];
}
interface Case {
  jobId: string;
  documentId: string;
  authorityId: string;
  payload: Uint8Array;
  threads: CaseThread[];
}

/** Files as export-worker writes them; `tamper` changes them after the manifest is computed. */
function packageFiles(c: Case): Record<string, Uint8Array> {
  const messagesJson = strToU8(
    JSON.stringify({
      documentId: c.documentId,
      threads: c.threads.map((t) => ({
        ...t,
        messages: t.messages.map((m) => ({ id: m.id, senderRole: m.senderRole, createdAt: m.createdAt, contentBlob: m.contentBlob })),
      })),
    }),
  );
  const manifest = {
    format: 'dvd-export/1',
    jobId: c.jobId,
    exportedAt: new Date().toISOString(),
    document: {
      id: c.documentId,
      authorityId: c.authorityId,
      unitId: 'buergeramt',
      referenceNumber: 'AZ-2025-0001',
      documentType: 'antrag',
      serviceKey: null,
      regionKey: null,
      createdAt: '2025-01-31T09:30:00.000Z',
      retentionDate: '2035-01-31',
      payloadFormat: 'jwe-compact',
    },
    threads: c.threads.map(({ messages, ...meta }) => ({
      ...meta,
      messages: messages.map((m) => ({ id: m.id, senderRole: m.senderRole, createdAt: m.createdAt, sha256: sha256(m.contentBlob) })),
    })),
    files: {
      'payload.jwe': { size: c.payload.length, sha256: sha256(c.payload) },
      'messages.json': { size: messagesJson.length, sha256: sha256(messagesJson) },
    },
  };
  return { 'payload.jwe': c.payload, 'messages.json': messagesJson, 'manifest.json': strToU8(`${JSON.stringify(manifest)}\n`) };
}

const zip = (files: Record<string, Uint8Array>) => zipSync(files, { level: 6 });

function envelopeBody(c: Pick<Case, 'jobId' | 'documentId' | 'authorityId'>, zipBytes: Uint8Array): string {
  return JSON.stringify({
    type: 'export.package',
    timestamp: new Date().toISOString(),
    data: {
      jobId: c.jobId,
      documentId: c.documentId,
      authorityId: c.authorityId,
      package: {
        contentType: 'application/zip',
        size: zipBytes.length,
        sha256: sha256(zipBytes),
        base64: Buffer.from(zipBytes).toString('base64'),
      },
    },
  });
}

/** Standard Webhooks headers; several secrets give one `v1,` signature each (a rotation). */
function sign(id: string, body: string, secrets: string[], at = new Date()): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((s) => new Webhook(s).sign(id, at, body)).join(' '),
  };
}

async function webhookFailure(f: () => unknown): Promise<DvdWebhookError> {
  let err: unknown;
  try {
    await f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DvdWebhookError);
  return err as DvdWebhookError;
}

async function integrityFailure(p: Promise<unknown>): Promise<DvdIntegrityError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DvdIntegrityError);
  return err as DvdIntegrityError;
}

/** An envelope object for `unpackExportPackage`, around any ZIP. */
function envelopeOf(c: Case, zipBytes: Uint8Array): ExportWebhook {
  return JSON.parse(envelopeBody(c, zipBytes)) as ExportWebhook;
}

describe('export delivery receiver', () => {
  const secret = newSecret();
  let authority: KeyPair;
  let citizen: KeyPair;
  const document = Buffer.from('%PDF-1.7\n… ein Antrag …\n');

  beforeAll(async () => {
    [authority, citizen] = await Promise.all([generateAuthorityKeyPair({ alg: 'ECDH-ES+A256KW' }), generateReplyKeyPair()]);
  });

  async function makeCase(): Promise<Case> {
    const documentId = randomUUID();
    const at = '2025-02-01T10:00:00.000Z';
    return {
      jobId: randomUUID(),
      documentId,
      authorityId: 'stadt-musterstadt',
      payload: strToU8(await encryptFor(document, authority.publicJwk)),
      threads: [
        {
          id: randomUUID(),
          type: 'question',
          status: 'OPEN',
          assignedOfficialId: 'official-1',
          callback: null,
          appointment: null,
          createdAt: at,
          lastActivityAt: at,
          messages: [
            {
              id: randomUUID(),
              senderRole: 'citizen',
              createdAt: at,
              contentBlob: await encryptMessage({ text: 'Frage' }, authority.publicJwk),
            },
            {
              id: randomUUID(),
              senderRole: 'official',
              createdAt: at,
              contentBlob: await encryptMessage({ text: 'Antwort' }, citizen.publicJwk),
            },
          ],
        },
        {
          id: randomUUID(),
          type: 'callback',
          status: 'CLOSED',
          assignedOfficialId: null,
          callback: { window: 'vormittags' },
          appointment: null,
          createdAt: at,
          lastActivityAt: at,
          messages: [],
        },
      ],
    };
  }

  async function delivery(c?: Case, o: { secrets?: string[]; at?: Date; files?: Record<string, Uint8Array> } = {}) {
    const theCase = c ?? (await makeCase());
    const zipBytes = zip(o.files ?? packageFiles(theCase));
    const body = envelopeBody(theCase, zipBytes);
    return { theCase, zipBytes, body, headers: sign(theCase.jobId, body, o.secrets ?? [secret], o.at) };
  }

  /** What a receiver does after `accepted`: store (not here) and remember. */
  async function accept(log: MemoryDeliveryLog, decision: DeliveryDecision) {
    expect(decision.kind).toBe('accepted');
    if (decision.kind !== 'accepted') return {};
    const receipt = { received: true, jobId: decision.delivery.webhookId, files: decision.unpacked.manifest.files };
    await log.put(decision.delivery.webhookId, {
      signatures: [decision.delivery.signature],
      packageSha256: decision.delivery.envelope.data.package.sha256,
      receipt,
    });
    return receipt;
  }

  it('accepts a valid delivery, and its files are the packaged bytes', async () => {
    const d = await delivery();
    const decision = await receiveExportDelivery({ body: d.body, headers: d.headers, secrets: secret, log: new MemoryDeliveryLog() });
    if (decision.kind !== 'accepted') throw new Error(`expected accepted, got ${decision.kind}`);
    expect(decision.delivery).toMatchObject({ webhookId: d.theCase.jobId, signature: d.headers['webhook-signature'] });
    expect(decision.delivery.timestamp.getTime()).toBe(Number(d.headers['webhook-timestamp']) * 1000);
    expect(decision.delivery.envelope.data).toMatchObject({
      jobId: d.theCase.jobId,
      documentId: d.theCase.documentId,
      authorityId: d.theCase.authorityId,
      package: { size: d.zipBytes.length, sha256: sha256(d.zipBytes) },
    });

    const expected = packageFiles(d.theCase);
    const { files, manifest } = decision.unpacked;
    expect(Object.keys(files).sort()).toEqual(['manifest.json', 'messages.json', 'payload.jwe']);
    expect(byteDifference(files['payload.jwe'], d.theCase.payload)).toBeUndefined();
    expect(byteDifference(files['messages.json'], expected['messages.json'])).toBeUndefined();
    expect(manifest).toMatchObject({ format: 'dvd-export/1', jobId: d.theCase.jobId, document: { id: d.theCase.documentId } });
    expect(manifest.threads.map((t) => t.messages.length)).toEqual([2, 0]);

    // the contents open with the keys they were made for
    const plaintext = await decryptWith(new TextDecoder().decode(files['payload.jwe']), authority.privateJwk!);
    expect(Buffer.from(plaintext).equals(document)).toBe(true);
    const messages = JSON.parse(new TextDecoder().decode(files['messages.json'])) as { threads: CaseThread[] };
    const [question, answer] = messages.threads[0].messages;
    expect(await decryptMessage(question.contentBlob, authority.privateJwk!)).toEqual({ text: 'Frage' });
    expect(await decryptMessage(answer.contentBlob, citizen.privateJwk!)).toEqual({ text: 'Antwort' });
  });

  it('reads headers from a Headers object and from a Node header record, as bytes or text', async () => {
    const d = await delivery();
    const asHeaders = verifyExportDelivery({ body: d.body, headers: new Headers(d.headers), secrets: secret });
    const asRecord = verifyExportDelivery({ body: Buffer.from(d.body), headers: d.headers as HeaderBag, secrets: [secret] });
    expect(asHeaders.webhookId).toBe(d.theCase.jobId);
    expect(asRecord.envelope).toEqual(asHeaders.envelope);
  });

  it('verifies during a secret rotation: a header with two v1 signatures, and a receiver with two secrets', async () => {
    const next = newSecret();
    const d = await delivery(undefined, { secrets: [next, secret] });
    expect(d.headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const s of d.headers['webhook-signature'].split(' ')) expect(s).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // a receiver that still knows the old secret only, one that knows the new one only, one with both
    for (const secrets of [secret, next, [next, secret], [secret, next]]) {
      expect(verifyExportDelivery({ body: d.body, headers: d.headers, secrets }).webhookId).toBe(d.theCase.jobId);
    }
    // a sender signing with the new secret only, to a receiver that already has both
    const single = await delivery(undefined, { secrets: [next] });
    expect(verifyExportDelivery({ body: single.body, headers: single.headers, secrets: [newSecret(), next] }).webhookId).toBe(
      single.theCase.jobId,
    );
    expect((await webhookFailure(() => verifyExportDelivery({ body: single.body, headers: single.headers, secrets: secret }))).reason).toBe(
      'signature',
    );
  });

  it('refuses a tampered body, a wrong secret and a signature for another id: signature', async () => {
    const d = await delivery();
    const tampered = d.body.replace('"stadt-musterstadt"', '"stadt-andere"');
    expect(tampered).not.toBe(d.body);
    const log = new MemoryDeliveryLog();
    for (const attempt of [
      () => verifyExportDelivery({ body: tampered, headers: d.headers, secrets: secret }),
      () => verifyExportDelivery({ body: d.body, headers: d.headers, secrets: newSecret() }),
      () => verifyExportDelivery({ body: d.body, headers: d.headers, secrets: [] }),
      () => verifyExportDelivery({ body: d.body, headers: { ...d.headers, 'webhook-id': randomUUID() }, secrets: secret }),
      () => verifyExportDelivery({ body: d.body, headers: { ...d.headers, 'webhook-signature': 'v2,abc' }, secrets: secret }),
      () => receiveExportDelivery({ body: tampered, headers: d.headers, secrets: secret, log }),
    ]) {
      expect((await webhookFailure(attempt)).reason).toBe('signature');
    }
  });

  it('refuses a delivery outside the 5-minute window: timestamp', async () => {
    const sixMinutes = 6 * 60 * 1000;
    for (const at of [new Date(Date.now() - sixMinutes), new Date(Date.now() + sixMinutes)]) {
      const d = await delivery(undefined, { at });
      const err = await webhookFailure(() => verifyExportDelivery({ body: d.body, headers: d.headers, secrets: secret }));
      expect(err.reason).toBe('timestamp');
    }
    // a tighter tolerance is honoured; a looser one is capped at the standard's 5 minutes
    const twoMinutesOld = await delivery(undefined, { at: new Date(Date.now() - 2 * 60 * 1000) });
    const tight = await webhookFailure(() =>
      verifyExportDelivery({ body: twoMinutesOld.body, headers: twoMinutesOld.headers, secrets: secret, toleranceSeconds: 60 }),
    );
    expect(tight.reason).toBe('timestamp');
    const sixMinutesOld = await delivery(undefined, { at: new Date(Date.now() - sixMinutes) });
    const loose = await webhookFailure(() =>
      verifyExportDelivery({ body: sixMinutesOld.body, headers: sixMinutesOld.headers, secrets: secret, toleranceSeconds: 3600 }),
    );
    expect(loose.reason).toBe('timestamp');
  });

  it('judges the window by the injected clock (`now`)', async () => {
    const at = new Date('2025-02-01T10:00:00Z');
    const d = await delivery(undefined, { at });
    const verified = verifyExportDelivery({ body: d.body, headers: d.headers, secrets: secret, now: new Date(at.getTime() + 60_000) });
    expect(verified.timestamp).toEqual(at);
    const late = await webhookFailure(() =>
      verifyExportDelivery({ body: d.body, headers: d.headers, secrets: secret, now: new Date(at.getTime() + 6 * 60_000) }),
    );
    expect(late.reason).toBe('timestamp');
  });

  it('refuses a verbatim replay, acknowledges a re-signed retry as a duplicate, refuses the id with another package', async () => {
    const log = new MemoryDeliveryLog();
    const first = await delivery();
    const receipt = await accept(log, await receiveExportDelivery({ body: first.body, headers: first.headers, secrets: secret, log }));

    // the same bytes and headers again
    const replay = await webhookFailure(() => receiveExportDelivery({ body: first.body, headers: first.headers, secrets: secret, log }));
    expect(replay.reason).toBe('replayed');

    // the sender lost our answer and retries: same id and package, a new timestamp and signature
    const retryHeaders = sign(first.theCase.jobId, first.body, [secret], new Date(Date.now() + 5_000));
    expect(retryHeaders['webhook-signature']).not.toBe(first.headers['webhook-signature']);
    const retry = await receiveExportDelivery({ body: first.body, headers: retryHeaders, secrets: secret, log });
    expect(retry).toMatchObject({ kind: 'duplicate', receipt });
    expect(retry.delivery.webhookId).toBe(first.theCase.jobId);
    // …and that retry, repeated verbatim, is a replay in turn
    expect(
      (await webhookFailure(() => receiveExportDelivery({ body: first.body, headers: retryHeaders, secrets: secret, log }))).reason,
    ).toBe('replayed');
    expect((await log.get(first.theCase.jobId))?.signatures).toEqual([
      first.headers['webhook-signature'],
      retryHeaders['webhook-signature'],
    ]);

    // the same id, another package (validly signed)
    const other = await delivery({ ...(await makeCase()), jobId: first.theCase.jobId });
    const err = await webhookFailure(() => receiveExportDelivery({ body: other.body, headers: other.headers, secrets: secret, log }));
    expect(err.reason).toBe('replayed');
    expect((await log.get(first.theCase.jobId))?.receipt).toBe(receipt);
  });

  it('a package whose payload.jwe differs from its manifest fails integrity', async () => {
    const c = await makeCase();
    const files = packageFiles(c);
    const payload = files['payload.jwe'].slice();
    payload[10] ^= 0x01;
    const d = await delivery(c, { files: { ...files, 'payload.jwe': payload } });
    const err = await integrityFailure(
      receiveExportDelivery({ body: d.body, headers: d.headers, secrets: secret, log: new MemoryDeliveryLog() }),
    );
    expect(err.message).toMatch(/payload\.jwe does not match/);
  });

  it('a message whose contentBlob was altered fails integrity (even with messages.json re-hashed in the manifest)', async () => {
    const c = await makeCase();
    const altered: Case = {
      ...c,
      threads: c.threads.map((t, i) =>
        i === 0 ? { ...t, messages: [t.messages[0], { ...t.messages[1], contentBlob: t.messages[0].contentBlob }] } : t,
      ),
    };
    // the manifest lists the original messages, but describes the altered messages.json correctly
    const honest = packageFiles(c);
    const tampered = packageFiles(altered);
    const manifest = JSON.parse(new TextDecoder().decode(honest['manifest.json']));
    manifest.files['messages.json'] = { size: tampered['messages.json'].length, sha256: sha256(tampered['messages.json']) };
    const files = { ...honest, 'messages.json': tampered['messages.json'], 'manifest.json': strToU8(JSON.stringify(manifest)) };
    const err = await integrityFailure(unpackExportPackage(envelopeOf(c, zip(files))));
    expect(err.message).toMatch(/^message .* does not match its sha256 in the manifest$/);

    // and without re-hashing, the file check catches it first
    const d = await delivery(c, { files: { ...honest, 'messages.json': tampered['messages.json'] } });
    const fileErr = await integrityFailure(
      receiveExportDelivery({ body: d.body, headers: d.headers, secrets: secret, log: new MemoryDeliveryLog() }),
    );
    expect(fileErr.message).toMatch(/messages\.json does not match/);
  });

  it('messages.json with a message the manifest does not list fails integrity', async () => {
    const c = await makeCase();
    const extra: Case = {
      ...c,
      threads: [{ ...c.threads[0], messages: [...c.threads[0].messages, { ...c.threads[0].messages[0], id: randomUUID() }] }],
    };
    const honest = packageFiles({ ...c, threads: [c.threads[0]] });
    const tampered = packageFiles(extra);
    const manifest = JSON.parse(new TextDecoder().decode(honest['manifest.json']));
    manifest.files['messages.json'] = { size: tampered['messages.json'].length, sha256: sha256(tampered['messages.json']) };
    const files = { ...honest, 'messages.json': tampered['messages.json'], 'manifest.json': strToU8(JSON.stringify(manifest)) };
    const err = await integrityFailure(unpackExportPackage(envelopeOf(c, zip(files))));
    expect(err.message).toMatch(/messages the manifest does not list/);
  });

  it('an extra or a missing file in the ZIP fails integrity', async () => {
    const c = await makeCase();
    const files = packageFiles(c);
    const extra = await delivery(c, { files: { ...files, 'notes.txt': strToU8('hallo') } });
    const err = await integrityFailure(
      receiveExportDelivery({ body: extra.body, headers: extra.headers, secrets: secret, log: new MemoryDeliveryLog() }),
    );
    expect(err.message).toMatch(/unexpected file in the package: notes\.txt/);
    await integrityFailure(unpackExportPackage(envelopeOf(c, zip({ ...files, 'sub/payload.jwe': files['payload.jwe'] }))));

    const { 'messages.json': _dropped, ...withoutMessages } = files;
    const missing = await integrityFailure(unpackExportPackage(envelopeOf(c, zip(withoutMessages))));
    expect(missing.message).toMatch(/no messages\.json/);
  });

  it('a ZIP that differs from the envelope, or is not a ZIP, fails integrity', async () => {
    const c = await makeCase();
    const zipBytes = zip(packageFiles(c));
    const envelope = envelopeOf(c, zipBytes);
    await integrityFailure(
      unpackExportPackage({ ...envelope, data: { ...envelope.data, package: { ...envelope.data.package, sha256: sha256('x') } } }),
    );
    await integrityFailure(
      unpackExportPackage({ ...envelope, data: { ...envelope.data, package: { ...envelope.data.package, size: zipBytes.length + 1 } } }),
    );
    await integrityFailure(unpackExportPackage(envelopeOf(c, strToU8('not a zip at all'))));
    await integrityFailure(
      unpackExportPackage({ ...envelope, data: { ...envelope.data, package: { ...envelope.data.package, base64: '***' } } }),
    );
    // a file larger than allowed unpacked
    const big = await integrityFailure(unpackExportPackage(envelope, { maxFileBytes: 100 }));
    expect(big.message).toMatch(/larger than 100 bytes unpacked/);
  });

  it('refuses a body over maxBytes: too-large', async () => {
    const d = await delivery();
    const size = Buffer.byteLength(d.body);
    expect(verifyExportDelivery({ body: d.body, headers: d.headers, secrets: secret, maxBytes: size }).webhookId).toBe(d.theCase.jobId);
    for (const body of [d.body, Buffer.from(d.body)]) {
      const err = await webhookFailure(() =>
        receiveExportDelivery({ body, headers: d.headers, secrets: secret, log: new MemoryDeliveryLog(), maxBytes: size - 1 }),
      );
      expect(err.reason).toBe('too-large');
    }
  });

  it('refuses missing or malformed headers and bodies: malformed', async () => {
    const d = await delivery();
    const without = (name: string) => Object.fromEntries(Object.entries(d.headers).filter(([k]) => k !== name));
    const cases: HeaderBag[] = [
      {},
      new Headers(),
      without('webhook-id'),
      without('webhook-timestamp'),
      without('webhook-signature'),
      { ...d.headers, 'webhook-timestamp': 'yesterday' },
      { ...d.headers, 'webhook-id': 'x'.repeat(201) },
    ];
    for (const headers of cases) {
      expect((await webhookFailure(() => verifyExportDelivery({ body: d.body, headers, secrets: secret }))).reason).toBe('malformed');
    }
    const log = new MemoryDeliveryLog();
    expect((await webhookFailure(() => receiveExportDelivery({ body: d.body, headers: {}, secrets: secret, log }))).reason).toBe(
      'malformed',
    );

    // signed, but not JSON / not an export envelope / an id other than the job's
    const signed = (id: string, body: string) => ({ body, headers: sign(id, body, [secret]), secrets: secret });
    expect((await webhookFailure(() => verifyExportDelivery(signed(d.theCase.jobId, '{not json')))).reason).toBe('malformed');
    expect((await webhookFailure(() => verifyExportDelivery(signed(d.theCase.jobId, '{"type":"other"}')))).reason).toBe('malformed');
    expect((await webhookFailure(() => verifyExportDelivery(signed(randomUUID(), d.body)))).reason).toBe('malformed');
    // bytes that are not UTF-8
    const notUtf8 = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    const err = await webhookFailure(() => verifyExportDelivery({ body: notUtf8, headers: d.headers, secrets: secret }));
    expect(err.reason).toBe('malformed');
  });
});
