import { ThreadEntity } from './thread.entity';

export function toThreadView(t: ThreadEntity) {
  const view: Record<string, unknown> = {
    id: t.id,
    documentId: t.documentId,
    type: t.type,
    status: t.status,
    assignedOfficialId: t.assignedOfficialId,
    createdAt: t.createdAt.toISOString(),
    lastActivityAt: t.lastActivityAt.toISOString(),
  };
  if (t.callback) view.callback = t.callback;
  if (t.appointment) view.appointment = t.appointment;
  return view;
}
