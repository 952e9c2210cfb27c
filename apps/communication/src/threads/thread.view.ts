import { Identity, ThreadView } from '@dvd/contracts';
import { ThreadEntity } from './thread.entity';

/**
 * A thread as its caller may see it (the contract's `Thread`). Officials see who holds it; citizens only whether
 * somebody does — the holder's id is an IdP subject of the authority's staff.
 */
export function toThreadView(t: ThreadEntity, who: Identity): ThreadView {
  const view: ThreadView = {
    id: t.id,
    documentId: t.documentId,
    type: t.type,
    status: t.status,
    assigned: t.assignedOfficialId !== null,
    ...(who.role === 'citizen' ? {} : { assignedOfficialId: t.assignedOfficialId }),
    createdAt: t.createdAt.toISOString(),
    lastActivityAt: t.lastActivityAt.toISOString(),
  };
  if (t.callback) view.callback = t.callback;
  if (t.appointment) view.appointment = t.appointment;
  return view;
}
