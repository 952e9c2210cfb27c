import { Injectable } from '@nestjs/common';
import { EventMap } from '@dvd/contracts';
import { Consumes, EventContext } from '@dvd/platform';

/**
 * authority.changed → the authority's public display name (`known_authorities`), for the
 * SUMMARY of calendar files (ADR 0022). Each event carries the whole current state: the newest
 * (by `occurredAt`) wins, so a late or redelivered older event never restores an old name. A
 * deleted authority is forgotten.
 */
@Injectable()
export class RememberAuthorityNameOnAuthorityChanged {
  @Consumes('authority.changed')
  async remember(d: EventMap['authority.changed'], { manager, envelope }: EventContext<'authority.changed'>): Promise<void> {
    if (d.deleted) {
      await manager.query(`DELETE FROM known_authorities WHERE authority_id = $1 AND changed_at <= $2`, [
        d.authorityId,
        envelope.occurredAt,
      ]);
      return;
    }
    await manager.query(
      `INSERT INTO known_authorities (authority_id, name, changed_at) VALUES ($1, $2, $3)
       ON CONFLICT (authority_id) DO UPDATE SET name = EXCLUDED.name, changed_at = EXCLUDED.changed_at
        WHERE known_authorities.changed_at <= EXCLUDED.changed_at`,
      [d.authorityId, d.name, envelope.occurredAt],
    );
  }
}
