import { EntityManager } from 'typeorm';

export interface ThreadAudience {
  citizenId: string;
  authorityId: string;
  unitId: string | null;
}

/**
 * Who may see an event about a thread on the realtime stream (ADR 0021): the citizen who
 * owns the document, its authority and, as far as known here, its unit. Pseudonymous ids only.
 */
export async function threadAudience(
  manager: EntityManager,
  thread: { documentId: string; citizenId: string; authorityId: string },
): Promise<ThreadAudience> {
  const [known] = (await manager.query(`SELECT unit_id FROM known_documents WHERE document_id = $1`, [thread.documentId])) as Array<{
    unit_id: string | null;
  }>;
  return { citizenId: thread.citizenId, authorityId: thread.authorityId, unitId: known?.unit_id ?? null };
}
