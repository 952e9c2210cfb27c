import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { FreshLookups } from './fresh-lookups';

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

/**
 * intake's read model of an authority as an upload or a forward needs it (its retention
 * period). Concurrent uploads for one authority share a query sent after they arrived
 * ({@link FreshLookups}): a burst to one authority reads its row a few times, not once per
 * upload, and no upload gets a row read before it arrived (a retention period changed by
 * `authority.changed` applies to every upload that starts after the change committed).
 */
@Injectable()
export class KnownAuthorities {
  private readonly lookups: FreshLookups<KnownAuthority | null>;

  constructor(@InjectDataSource() db: DataSource) {
    this.lookups = new FreshLookups((id) => findKnownAuthority(db.manager, id));
  }

  find(id: string): Promise<KnownAuthority | null> {
    return this.lookups.get(id);
  }
}
