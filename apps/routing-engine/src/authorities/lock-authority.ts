import { EntityManager } from 'typeorm';
import { authorityNotFound } from './access';
import { AuthorityEntity } from './authority.entity';

/**
 * Locks the authority's row (`SELECT … FOR UPDATE`) for the rest of `manager`'s
 * transaction and returns it, or answers 404 `authority-not-found`. Every change to an
 * authority — its fields, units, keys, rules, ingest secrets — takes this lock first, so
 * concurrent changes of one authority apply one after another and each snapshot it
 * publishes is complete.
 */
export async function lockAuthority(manager: EntityManager, authorityId: string): Promise<AuthorityEntity> {
  const authority = await manager
    .getRepository(AuthorityEntity)
    .findOne({ where: { id: authorityId }, lock: { mode: 'pessimistic_write' } });
  if (!authority) throw authorityNotFound();
  return authority;
}
