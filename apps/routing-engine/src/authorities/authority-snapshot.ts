import { EntityManager } from 'typeorm';
import { EventMap } from '@dvd/contracts';
import { AuthorityKeyEntity } from '../keys/authority-key.entity';
import { AuthorityEntity } from './authority.entity';

/** The `authority.changed` payload: what other services keep of an authority (no secrets). */
export async function authoritySnapshot(manager: EntityManager, authority: AuthorityEntity): Promise<EventMap['authority.changed']> {
  const keys = await manager
    .getRepository(AuthorityKeyEntity)
    .find({ where: { authorityId: authority.id, status: 'ACTIVE' }, order: { createdAt: 'ASC' } });
  return {
    authorityId: authority.id,
    name: authority.name,
    retentionPeriod: authority.retentionPeriod,
    defaultUnitId: authority.defaultUnitId,
    activeKeyIds: keys.map((k) => k.kid),
    deleted: false,
  };
}
