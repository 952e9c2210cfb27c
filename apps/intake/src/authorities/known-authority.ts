import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ApiError } from '@dvd/platform';
import { FreshLookups } from './fresh-lookups';

/** A read of one row that takes longer is stuck (a half-open connection): its uploads get 503, the next ones a new read. */
const AUTHORITY_READ_TIMEOUT_MS = 5_000;

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
 * `authority.changed` applies to every upload that starts after the change committed). A
 * read stuck for 5 s fails its uploads with 503, and the next upload reads anew.
 */
@Injectable()
export class KnownAuthorities {
  private readonly lookups: FreshLookups<KnownAuthority | null>;

  constructor(@InjectDataSource() db: DataSource) {
    this.lookups = new FreshLookups((id) => findKnownAuthority(db.manager, id), {
      timeoutMs: AUTHORITY_READ_TIMEOUT_MS,
      timedOut: () => ApiError.unavailable('The authority could not be read; retry later'),
    });
  }

  find(id: string): Promise<KnownAuthority | null> {
    return this.lookups.get(id);
  }
}
