import { Injectable } from '@nestjs/common';
import { EventMap } from '@dvd/contracts';
import { Consumes, EventContext } from '@dvd/platform';

/**
 * authority.changed → intake's read model of authorities (retention period, active key
 * ids), so an upload is checked without a call to routing-engine. Snapshots are applied
 * only if newer than what is stored: a late event never restores old keys.
 */
@Injectable()
export class KeepAuthorityOnAuthorityChanged {
  @Consumes('authority.changed')
  async keep(data: EventMap['authority.changed'], { manager, envelope }: EventContext<'authority.changed'>): Promise<void> {
    await manager.query(
      `INSERT INTO authorities (id, retention_period, active_key_ids, deleted, changed_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET retention_period = EXCLUDED.retention_period, active_key_ids = EXCLUDED.active_key_ids,
         deleted = EXCLUDED.deleted, changed_at = EXCLUDED.changed_at
       WHERE authorities.changed_at <= EXCLUDED.changed_at`,
      [data.authorityId, data.retentionPeriod, data.activeKeyIds, data.deleted, envelope.occurredAt],
    );
  }
}
