import { AuthorityCreateSchema, AuthoritySchema, AuthorityView, UnitCreatedSchema, UnitCreatedView } from './authorities';
import { DeadLetterSchema, DeadLetterView } from './admin/dead-letters';
import {
  DocumentForwardedSchema,
  DocumentForwardedView,
  DocumentHistoryEntrySchema,
  DocumentHistoryEntryView,
  DocumentListQuery,
  DocumentMetadataSchema,
  DocumentPageSchema,
  DocumentPageView,
  DocumentRejectSchema,
  DocumentSchema,
  DocumentView,
  ReceiptClaimsSchema,
  RoutingResultSchema,
  RoutingResultView,
} from './documents';
import { ExportJobSchema, ExportJobView } from './exports';
import { JwkInputSchema } from './keys';
import { MessageSchema, MessageView } from './messages';
import { RoutingRuleSchema, RoutingRuleView } from './rules';
import { ThreadSchema, ThreadView } from './threads';
import { IdempotencyKey } from './common';

/*
 * The services build their answers as these view types (the schemas' `z.input`), so a field
 * removed, renamed or added in a contract schema stops `npm run typecheck` in the service
 * that builds it. The `@ts-expect-error` lines below are the proof at the type level: tsc
 * fails if any of them compiles. At run time, each sample is what the schema accepts.
 */

const at = '2026-01-31T09:30:00.000Z';
const id = '0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10';

const document: DocumentView = {
  id,
  status: 'ROUTED',
  referenceNumber: 'WG-2025-000123',
  authorityId: 'stadt-musterstadt',
  documentType: 'WOHNGELD_ANTRAG',
  serviceKey: null,
  regionKey: '091620000000',
  unitId: 'buergeramt',
  createdAt: at,
  updatedAt: at,
  retentionDate: at,
  payload: { size: 1234, sha256: 'a'.repeat(64) },
  overdue: false,
  replyKey: null,
  rejection: null,
  forwardedFrom: null,
  forwardedTo: null,
};
const forwarded: DocumentForwardedView = {
  document: { ...document, status: 'FORWARDED', forwardedTo: id },
  forwarded: { id, authorityId: 'landkreis-muster', payload: { size: 1300, sha256: 'b'.repeat(64) }, receipt: 'h.p.s' },
};
const historyEntry: DocumentHistoryEntryView = { state: 'REJECTED', at, actorRole: 'official', reasonCode: 'INCOMPLETE' };
const thread: ThreadView = {
  id,
  documentId: id,
  type: 'CALLBACK',
  status: 'OPEN',
  assigned: false,
  assignedOfficialId: null,
  lastActivityAt: at,
  createdAt: at,
  callback: { preferredFrom: at, preferredTo: '2026-01-31T10:30:00.000Z' },
};
const message: MessageView = { id, threadId: id, senderRole: 'citizen', createdAt: at, contentBlob: 'eyJhbGciOi...' };
const rule: RoutingRuleView = {
  id,
  authorityId: 'stadt-musterstadt',
  priority: 10,
  conditions: { documentType: 'WOHNGELD_ANTRAG' },
  targetUnitId: 'buergeramt',
  createdAt: at,
  updatedAt: at,
};
const authority: AuthorityView = {
  id: 'stadt-musterstadt',
  name: 'Stadt Musterstadt',
  units: [{ id: 'buergeramt', name: 'Bürgeramt' }],
  retentionPeriod: 'P180D',
  claimDeadline: 'P3D',
  defaultUnitId: 'buergeramt',
};
const unit: UnitCreatedView = { id: 'buergeramt', name: 'Bürgeramt', isDefault: true };
const job: ExportJobView = {
  jobId: id,
  documentId: id,
  status: 'FAILED',
  attempts: 3,
  lastError: 'http-5xx (after 3 attempts)',
  lastErrorCategory: 'delivery-retryable',
  createdAt: at,
  completedAt: at,
  receipt: null,
};
const routing: RoutingResultView = { documentId: id, outcome: 'ROUTED', unitId: 'buergeramt', ruleId: null, reason: null, changed: true };
const deadLetter: DeadLetterView = {
  eventId: id,
  eventType: 'document.received',
  documentId: id,
  reason: 'handler-failed',
  detail: 'QueryFailedError 23503',
  attempts: 4,
  firstFailedAt: at,
  lastFailedAt: at,
  size: 512,
  replayable: true,
};

describe('the view types are the contract schemas', () => {
  it.each([
    ['Document', DocumentSchema, document],
    ['Thread', ThreadSchema, thread],
    ['Message', MessageSchema, message],
    ['RoutingRule', RoutingRuleSchema, rule],
    ['Authority', AuthoritySchema, authority],
    ['UnitCreated', UnitCreatedSchema, unit],
    ['ExportJob', ExportJobSchema, job],
    ['DeadLetter', DeadLetterSchema, deadLetter],
    ['RoutingResult', RoutingResultSchema, routing],
    ['DocumentForwarded', DocumentForwardedSchema, forwarded],
    ['DocumentHistoryEntry', DocumentHistoryEntrySchema, historyEntry],
  ] as const)('a %s view passes its schema', (_name, schema, view) => {
    expect(schema.safeParse(view).error?.issues).toBeUndefined();
  });

  it('refuses, at compile time, a field the contract does not have and a view missing one it requires', () => {
    // @ts-expect-error: `retentionUntil` is not a field of the contract's Document (a renamed field)
    const renamed: DocumentView = { ...document, retentionUntil: at };
    const { retentionDate: _removed, ...withoutRetentionDate } = document;
    // @ts-expect-error: `retentionDate` is required by the contract's Document
    const missing: DocumentView = withoutRetentionDate;
    // @ts-expect-error: a status the contract does not list
    const unknownStatus: ThreadView = { ...thread, status: 'ARCHIVED' };
    // @ts-expect-error: `contentBlob` is required by the contract's Message
    const noContent: MessageView = { id, threadId: id, senderRole: 'official', createdAt: at };
    // the schemas agree with the types
    expect(DocumentSchema.strict().safeParse(renamed).success).toBe(false);
    expect(DocumentSchema.safeParse(missing).success).toBe(false);
    expect(ThreadSchema.safeParse(unknownStatus).success).toBe(false);
    expect(MessageSchema.safeParse(noContent).success).toBe(false);
  });

  it('types pages as the page schemas', () => {
    const page: DocumentPageView = { items: [document], nextCursor: null };
    expect(DocumentPageSchema.safeParse(page).success).toBe(true);
    // @ts-expect-error: a page has `items` and `nextCursor`, nothing else
    const extra: DocumentPageView = { items: [], nextCursor: null, total: 0 };
    expect(DocumentPageSchema.safeParse(extra).success).toBe(false);
  });
});

describe('the request schemas say what the services enforce', () => {
  it('bounds the ingest secret to 24–64 decoded bytes, in characters', () => {
    const secret = (chars: number) => `whsec_${'A'.repeat(chars)}`;
    const valid = (chars: number) => AuthorityCreateSchema.shape.ingestSecret.safeParse(secret(chars)).success;
    expect([31, 32, 86, 87].map(valid)).toEqual([false, true, true, false]);
  });

  it('trims authority and unit names, and refuses one that is only white space', () => {
    expect(AuthorityCreateSchema.shape.name.parse('  Stadt Musterstadt ')).toBe('Stadt Musterstadt');
    expect(AuthorityCreateSchema.shape.name.safeParse('   ').success).toBe(false);
  });

  it('takes overdue=true|false in the URL (a boolean from a typed client) and nothing else', () => {
    const overdue = (v: unknown) => DocumentListQuery.safeParse({ overdue: v });
    expect([overdue('true').data?.overdue, overdue('false').data?.overdue, overdue(true).data?.overdue]).toEqual([true, false, true]);
    expect(DocumentListQuery.parse({}).overdue).toBeUndefined();
    for (const bad of ['1', 'yes', 'TRUE', '']) expect([bad, overdue(bad).success]).toEqual([bad, false]);
  });

  it('takes an Idempotency-Key of 1 to 100 printable ASCII characters', () => {
    for (const ok of [undefined, 'k', 'x'.repeat(100), 'a b~']) expect([ok, IdempotencyKey.safeParse(ok).success]).toEqual([ok, true]);
    for (const bad of ['', 'x'.repeat(101), 'ä', 'a\tb']) expect([bad, IdempotencyKey.safeParse(bad).success]).toEqual([bad, false]);
  });

  it('takes any JSON object with a string kty as a key to judge (400 only for other shapes)', () => {
    expect(JwkInputSchema.safeParse({ kty: 'oct', k: 'secret' }).success).toBe(true); // refused later with 422
    expect(JwkInputSchema.safeParse({ kty: 'EC', crv: 'P-521', x: 'a', y: 'b', d: 'c' }).success).toBe(true);
    for (const bad of [[], 'jwk', {}, { kty: 1 }, { kty: 'RSA', n: 5 }]) expect(JwkInputSchema.safeParse(bad).success).toBe(false);
  });

  it('takes a rejection reason from the fixed list only, and a note of at most 64 KiB', () => {
    expect(DocumentRejectSchema.safeParse({ reasonCode: 'NOT_RESPONSIBLE' }).success).toBe(true);
    expect(DocumentRejectSchema.safeParse({ reasonCode: 'OTHER', note: 'h.k.i.c.t' }).success).toBe(true);
    expect(DocumentRejectSchema.safeParse({ reasonCode: 'NO_REASON' }).success).toBe(false);
    expect(DocumentRejectSchema.safeParse({ reasonCode: 'OTHER', note: 'x'.repeat(64 * 1024 + 1) }).success).toBe(false);
    expect(DocumentRejectSchema.safeParse({ reasonCode: 'OTHER', extra: 1 }).success).toBe(false);
  });

  it('describes receipt claims without an Aktenzeichen or a name', () => {
    const claims = {
      iss: 'https://dvd.example',
      sub: id,
      iat: 1_767_000_000,
      authorityId: 'stadt-musterstadt',
      documentType: 'WOHNGELD_ANTRAG',
      payload: { size: 1, sha256: 'a'.repeat(64) },
      payloadKid: 'k1',
    };
    expect(ReceiptClaimsSchema.safeParse(claims).success).toBe(true);
    expect(ReceiptClaimsSchema.safeParse({ ...claims, referenceNumber: 'WG-1' }).success).toBe(false);
  });

  it('refuses a replyKey with private members in the metadata', () => {
    const metadata = { referenceNumber: 'WG-1', authorityId: 'stadt-musterstadt', documentType: 'WOHNGELD_ANTRAG' };
    const replyKey = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' };
    expect(DocumentMetadataSchema.safeParse({ ...metadata, replyKey }).success).toBe(true);
    expect(DocumentMetadataSchema.safeParse({ ...metadata, replyKey: { ...replyKey, d: 'private' } }).success).toBe(false);
  });
});
