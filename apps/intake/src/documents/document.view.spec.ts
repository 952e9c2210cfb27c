import { DocumentSchema, Identity } from '@dvd/contracts';
import { DocumentEntity } from './document.entity';
import { toDocumentView } from './document.view';

const viewer = (role: Identity['role']): Identity => ({
  role,
  userId: 'u-1',
  authorityId: role === 'citizen' ? null : 'a1',
  requestId: 'r-1',
});

const entity = (over: Partial<DocumentEntity> = {}): DocumentEntity =>
  Object.assign(new DocumentEntity(), {
    id: '0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10',
    citizenId: 'citizen-1',
    authorityId: 'a1',
    referenceNumber: 'WG-2026-4711',
    documentType: 'WOHNGELD_ANTRAG',
    serviceKey: null,
    regionKey: '091620000000',
    replyKey: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'citizen-own', use: 'enc', alg: 'ECDH-ES+A256KW' },
    unitId: null,
    status: 'RECEIVED',
    statusRank: 0,
    payloadKey: 'documents/0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10',
    payloadSize: '1234',
    payloadSha256: 'a'.repeat(64),
    payloadFormat: 'compact',
    retentionDate: new Date('2026-07-30T09:30:00Z'),
    payloadKid: 'a1-k1',
    receipt: 'h.p.s',
    receiptKid: 'r1',
    forwardedFrom: null,
    forwardedTo: null,
    rejectReason: null,
    rejectNote: null,
    version: 1,
    createdAt: new Date('2026-01-31T09:30:00Z'),
    updatedAt: new Date('2026-01-31T09:30:00Z'),
    ...over,
  });

describe('toDocumentView (typed as the contract’s Document)', () => {
  it('shows a rejection and the forward chain, never the receipt or the key ids', () => {
    const view = toDocumentView(
      entity({
        status: 'REJECTED',
        rejectReason: 'INCOMPLETE',
        rejectNote: 'h.k.i.c.t',
        forwardedFrom: '6f1b2c3d-0000-4000-8000-000000000001',
      }),
      viewer('citizen'),
    );
    expect(DocumentSchema.strict().safeParse(view).error?.issues).toBeUndefined();
    expect(view).toMatchObject({
      rejection: { reasonCode: 'INCOMPLETE', note: 'h.k.i.c.t' },
      forwardedFrom: expect.any(String),
      forwardedTo: null,
    });
    expect(JSON.stringify(view)).not.toMatch(/h\.p\.s|a1-k1|"r1"/);
  });

  it('answers exactly the fields of the contract, no internal ones', () => {
    const view = toDocumentView(entity(), viewer('official'));
    expect(DocumentSchema.strict().safeParse(view).error?.issues).toBeUndefined();
    expect(view).toMatchObject({ payload: { size: 1234 }, retentionDate: '2026-07-30T09:30:00.000Z', replyKey: { kid: 'citizen-own' } });
  });

  it('shows the reply key to officials only (null if the upload gave none)', () => {
    expect(toDocumentView(entity(), viewer('citizen'))).not.toHaveProperty('replyKey');
    const view = toDocumentView(entity({ replyKey: null }), viewer('admin'));
    expect(view.replyKey).toBeNull();
    expect(DocumentSchema.strict().safeParse(view).success).toBe(true);
  });
});
