import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { JwkInput, Jwks } from '@dvd/contracts';
import { ApiError, KeyValidationError, Messaging, PublicEncryptionKey, validatePublicEncryptionJwk } from '@dvd/platform';
import { authorityNotFound } from '../authorities/access';
import { authoritySnapshot } from '../authorities/authority-snapshot';
import { AuthorityEntity } from '../authorities/authority.entity';
import { AuthorityKeyEntity } from './authority-key.entity';
import { lockAuthority } from '../authorities/lock-authority';

@Injectable()
export class KeyService {
  constructor(
    private readonly messaging: Messaging,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  /** The JWKS of an authority's active encryption keys (what citizens encrypt for). */
  async activeJwks(authorityId: string): Promise<Jwks> {
    const exists = await this.db.getRepository(AuthorityEntity).existsBy({ id: authorityId });
    if (!exists) throw authorityNotFound();
    const keys = await this.db
      .getRepository(AuthorityKeyEntity)
      .find({ where: { authorityId, status: 'ACTIVE' }, order: { createdAt: 'ASC', kid: 'ASC' } });
    return { keys: keys.map((k) => k.jwk) };
  }

  async add(authorityId: string, input: JwkInput): Promise<PublicEncryptionKey['jwk']> {
    let key;
    try {
      key = await validatePublicEncryptionJwk(input);
    } catch (err) {
      if (err instanceof KeyValidationError) throw ApiError.unprocessable(err.rule, err.detail);
      throw err;
    }
    return this.messaging.transaction(async (manager, emit) => {
      const authority = await lockAuthority(manager, authorityId);
      const inserted: unknown[] = await manager.query(
        `INSERT INTO authority_keys (authority_id, kid, alg, jwk) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING kid`,
        [authorityId, key.kid, key.alg, JSON.stringify(key.jwk)],
      );
      // a retired kid stays taken: reusing it would make old containers ambiguous
      if (inserted.length === 0) throw ApiError.conflict('duplicate-kid', 'This authority already has (or had) a key with this kid');
      await emit('authority.changed', await authoritySnapshot(manager, authority));
      return key.jwk;
    });
  }

  async retire(authorityId: string, kid: string): Promise<void> {
    await this.messaging.transaction(async (manager, emit) => {
      const authority = await lockAuthority(manager, authorityId);
      // TypeORM answers UPDATE … RETURNING with [rows, count]
      const [retired] = (await manager.query(
        `UPDATE authority_keys SET status = 'RETIRED', retired_at = now() WHERE authority_id = $1 AND kid = $2 AND status = 'ACTIVE' RETURNING kid`,
        [authorityId, kid],
      )) as [unknown[], number];
      if (retired.length === 0) throw ApiError.notFound('key', 'key-not-found');
      await emit('authority.changed', await authoritySnapshot(manager, authority));
    });
  }
}
