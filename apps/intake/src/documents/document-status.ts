import { EntityManager } from 'typeorm';
import { DECIDED_STATUSES, DEFAULT_CLAIM_DEADLINE, DOCUMENT_STATUSES, type HistoryActorRole } from '@dvd/contracts';
import { Emitter, parsePositiveDuration, plusDuration } from '@dvd/platform';
import { recordHistory } from './document-history';
import { DECIDED_RANK, DocumentEntity, DocumentStatus, STATUS_RANK } from './document.entity';

/**
 * Statuses in which someone has taken the document up: a thread of it was claimed
 * (`ASSIGNED`), it was decided (`DECIDED_STATUSES`: accepted, rejected, forwarded) or
 * exported. Such a document is never overdue and is not re-routed.
 */
export const HANDLED_STATUSES: readonly string[] = ['ASSIGNED', 'EXPORTED', ...DECIDED_STATUSES];

/** Statuses of a routed document that still waits for an official: routed, and not handled. */
export const AWAITING_STATUSES: readonly DocumentStatus[] = DOCUMENT_STATUSES.filter(
  (s) => s !== 'RECEIVED' && !HANDLED_STATUSES.includes(s),
);

/** `'ROUTED'`, … for SQL: the statuses are constants of the code, checked to be plain words. */
export function statusListSql(statuses: readonly string[]): string {
  if (statuses.length === 0 || statuses.some((s) => !/^[A-Z_]+$/.test(s))) throw new Error('status list');
  return statuses.map((s) => `'${s}'`).join(', ');
}

/**
 * SQL: the document (of table alias `alias`) was reported overdue and still waits (a claim,
 * a decision or an export clears it). With one awaiting status this is the predicate of
 * documents_overdue_idx.
 */
export function overdueSql(alias?: string): string {
  const c = alias ? `${alias}.` : '';
  return `(${c}overdue_since IS NOT NULL AND ${c}status IN (${statusListSql(AWAITING_STATUSES)}))`;
}

/** The `overdue` flag of a document (the same rule as `overdueSql`). */
export function isOverdue(d: Pick<DocumentEntity, 'overdueSince' | 'status'>): boolean {
  return d.overdueSince !== null && AWAITING_STATUSES.includes(d.status);
}

/** May the document be routed again? Not once someone has taken it up. */
export function isReroutable(status: string): boolean {
  return !HANDLED_STATUSES.includes(status);
}

/**
 * Tells the realtime stream (ADR 0021) that a document's status or unit changed, in the
 * transaction of the change: ids (the owner's pseudonymous subject, authority, unit) and
 * the status as they are now. Never the Aktenzeichen.
 */
export async function emitStatusChanged(manager: EntityManager, emit: Emitter, documentId: string): Promise<void> {
  const [d] = (await manager.query(`SELECT ${STATUS_CHANGED_COLUMNS} FROM documents WHERE id = $1`, [documentId])) as StatusChangedRow[];
  if (d) await emitStatusChangedOf(emit, documentId, d);
}

/** The columns the event carries, as a statement that changed the row returns them. */
const STATUS_CHANGED_COLUMNS = 'citizen_id, authority_id, unit_id, status';
interface StatusChangedRow {
  citizen_id: string;
  authority_id: string;
  unit_id: string | null;
  status: string;
}

function emitStatusChangedOf(emit: Emitter, documentId: string, d: StatusChangedRow): Promise<void> {
  return emit('document.status-changed', {
    documentId,
    citizenId: d.citizen_id,
    authorityId: d.authority_id,
    unitId: d.unit_id,
    status: d.status,
  });
}

/** Who makes each progress step, as the history records it. */
const PROGRESS_ACTOR: Partial<Record<DocumentStatus, HistoryActorRole>> = { ROUTED: 'system', ASSIGNED: 'official', EXPORTED: 'system' };

/**
 * Moves a document's progress forward, never backwards: a late or repeated event changes
 * nothing (`status_rank` only grows), and a decided document (ACCEPTED, REJECTED,
 * FORWARDED) keeps its status. `version` (the ETag) rises only on a real change. Each step
 * that changes the status is recorded in the history; an export that completes after a
 * decision is recorded there once, without changing the status (docs/case-workflow.md).
 */
export async function advanceDocumentStatus(
  manager: EntityManager,
  documentId: string,
  status: DocumentStatus,
  emit: Emitter,
): Promise<void> {
  const rank = STATUS_RANK[status];
  const actor = PROGRESS_ACTOR[status] ?? 'system';
  // a step forward: the row as it is now comes back (the event's fields), no second read
  const [advanced] = (await manager.query(
    `UPDATE documents
        SET status = $3, status_rank = $2, version = version + 1, updated_at = now()
      WHERE id = $1 AND status_rank < $2
      RETURNING ${STATUS_CHANGED_COLUMNS}`,
    [documentId, rank, status],
  )) as [StatusChangedRow[], number];
  if (advanced.length) {
    await recordHistory(manager, documentId, status, actor);
    await emitStatusChangedOf(emit, documentId, advanced[0]);
    return;
  }
  if (status !== 'EXPORTED') return; // a late or repeated step, or purged meanwhile
  const [before] = (await manager.query(`SELECT status_rank FROM documents WHERE id = $1 FOR UPDATE`, [documentId])) as Array<{
    status_rank: number;
  }>;
  if (!before || before.status_rank < DECIDED_RANK) return;
  const [seen] = (await manager.query(`SELECT 1 FROM document_history WHERE document_id = $1 AND state = 'EXPORTED' LIMIT 1`, [
    documentId,
  ])) as unknown[];
  if (!seen) await recordHistory(manager, documentId, 'EXPORTED', actor);
}

export interface Routing {
  documentId: string;
  unitId: string;
  /** The decision's revision: only a higher one than the document has changes its unit. */
  revision: number;
  /** The authority's claimDeadline at routing time. */
  claimDeadline: string;
  routedAt: Date;
}

/**
 * Applies a routing decision: status `ROUTED` (forward only), the unit if the decision is
 * newer than the one the document has (so a late event never restores an older unit, even
 * after a later status), and the overdue deadline, fixed at the first routing. Repeats
 * change nothing; `version` rises only when status or unit change.
 */
export async function applyRouting(manager: EntityManager, r: Routing, emit: Emitter): Promise<void> {
  const deadline = parsePositiveDuration(r.claimDeadline) ? r.claimDeadline : DEFAULT_CLAIM_DEADLINE;
  const changes = `(d.status_rank < $2 OR (d.routing_revision < $5 AND d.unit_id IS DISTINCT FROM $4))`;
  // One statement: the row locked as it was (`was`, for what changed), updated, and
  // returned as it is now (for the event). No row: purged meanwhile, or nothing to change.
  const [rows] = (await manager.query(
    `UPDATE documents d
        SET status = CASE WHEN d.status_rank < $2 THEN $3 ELSE d.status END,
            status_rank = GREATEST(d.status_rank, $2),
            unit_id = CASE WHEN d.routing_revision < $5 THEN $4 ELSE d.unit_id END,
            routing_revision = GREATEST(d.routing_revision, $5),
            overdue_at = COALESCE(d.overdue_at, $6),
            version = d.version + CASE WHEN ${changes} THEN 1 ELSE 0 END,
            updated_at = CASE WHEN ${changes} THEN now() ELSE d.updated_at END
       FROM (SELECT id, status_rank, unit_id, routing_revision FROM documents WHERE id = $1 FOR UPDATE) was
      WHERE d.id = was.id AND (d.status_rank < $2 OR d.routing_revision < $5 OR d.overdue_at IS NULL)
      RETURNING was.status_rank AS before_rank, was.unit_id AS before_unit, was.routing_revision AS before_revision,
                d.citizen_id, d.authority_id, d.unit_id, d.status`,
    [r.documentId, STATUS_RANK.ROUTED, 'ROUTED', r.unitId, r.revision, plusDuration(r.routedAt, deadline)],
  )) as [Array<StatusChangedRow & { before_rank: number; before_unit: string | null; before_revision: number }>, number];
  const [row] = rows;
  if (!row) return;
  if (row.before_rank < STATUS_RANK.ROUTED) await recordHistory(manager, r.documentId, 'ROUTED', 'system');
  const movedUnit = row.before_revision < r.revision && row.before_unit !== r.unitId;
  if (row.before_rank < STATUS_RANK.ROUTED || movedUnit) await emitStatusChangedOf(emit, r.documentId, row);
}
