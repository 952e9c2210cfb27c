import { EntityManager } from 'typeorm';

export interface KnownAuthority {
  id: string;
  retentionPeriod: string;
  activeKeyIds: Set<string>;
}

export async function findKnownAuthority(manager: EntityManager, id: string): Promise<KnownAuthority | null> {
  const rows: Array<{ id: string; retention_period: string; active_key_ids: string[] }> = await manager.query(
    `SELECT id, retention_period, active_key_ids FROM authorities WHERE id = $1 AND NOT deleted`,
    [id],
  );
  const row = rows[0];
  return row ? { id: row.id, retentionPeriod: row.retention_period, activeKeyIds: new Set(row.active_key_ids) } : null;
}
