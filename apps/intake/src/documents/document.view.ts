import { createHash } from 'node:crypto';
import { DocumentView, Identity, ReceiptClaims } from '@dvd/contracts';
import { isOverdue } from './document-status';
import { DocumentEntity } from './document.entity';

/** The public JSON of a document (the contract's `Document`). Officials also see the citizen's `replyKey`. */
export function toDocumentView(d: DocumentEntity, viewer: Identity): DocumentView {
  const view: DocumentView = {
    id: d.id,
    status: d.status,
    referenceNumber: d.referenceNumber,
    authorityId: d.authorityId,
    documentType: d.documentType,
    serviceKey: d.serviceKey,
    regionKey: d.regionKey,
    unitId: d.unitId,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    retentionDate: d.retentionDate.toISOString(),
    payload: { size: Number(d.payloadSize), sha256: d.payloadSha256 },
    overdue: isOverdue(d),
    rejection: d.rejectReason ? { reasonCode: d.rejectReason, note: d.rejectNote } : null,
    forwardedFrom: d.forwardedFrom,
    forwardedTo: d.forwardedTo,
  };
  if (viewer.role !== 'citizen') view.replyKey = d.replyKey;
  return view;
}

/**
 * Strong ETag of a document's representation. `version` rises with every status or unit
 * change and when the document is reported overdue; the viewer class is included because officials see more fields than citizens.
 */
export function documentETag(d: DocumentEntity, viewer: Identity): string {
  const audience = viewer.role === 'citizen' ? 'c' : 'o';
  const h = createHash('sha256')
    .update(`${d.id}:${d.version}:${d.status}:${d.unitId ?? ''}:${audience}`)
    .digest('base64url');
  return `"${h.slice(0, 32)}"`;
}

/** The claims of a receipt this service signed (its payload part, decoded). */
export function receiptClaims(receipt: string): ReceiptClaims {
  return JSON.parse(Buffer.from(receipt.split('.')[1], 'base64url').toString('utf8')) as ReceiptClaims;
}
