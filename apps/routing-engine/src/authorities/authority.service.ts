import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import {
  AuthorityCreateInput,
  AuthorityPatchInput,
  AuthorityView,
  IngestSecretListView,
  IngestSecretRotationInput,
  UnitCreateInput,
  UnitCreatedView,
} from '@dvd/contracts';
import { ApiError, Emitter, Messaging } from '@dvd/platform';
import { authorityNotFound } from './access';
import { authoritySnapshot } from './authority-snapshot';
import { DEFAULT_PREVIOUS_SECRET_TTL_MS } from './authority.dto';
import { AuthorityEntity, UnitEntity } from './authority.entity';
import { IngestSecretStore } from './ingest-secret.store';
import { lockAuthority } from './lock-authority';

@Injectable()
export class AuthorityService {
  constructor(
    private readonly messaging: Messaging,
    private readonly secrets: IngestSecretStore,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  async create(input: AuthorityCreateInput): Promise<AuthorityView> {
    return this.messaging.transaction(async (manager, emit) => {
      const inserted: unknown[] = await manager.query(
        `INSERT INTO authorities (id, name, ingest_url, retention_period, claim_deadline)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING id`,
        [input.id, input.name, input.ingestUrl, input.retentionPeriod, input.claimDeadline],
      );
      if (inserted.length === 0) throw ApiError.conflict('authority-exists', 'An authority with this id is already registered');
      await this.secrets.replace(manager, input.id, input.ingestSecret);
      return this.publishAndView(manager, emit, input.id, true);
    });
  }

  /** The contract's `Authority`; `ingestUrl` and `ingestSecrets` (ids and validity, never the secrets) only for its admins. */
  async get(id: string, withIngestUrl: boolean, manager?: EntityManager): Promise<AuthorityView> {
    const run = async (m: EntityManager) => {
      const authority = await m.getRepository(AuthorityEntity).findOneBy({ id });
      if (!authority) throw authorityNotFound();
      const units = await m.getRepository(UnitEntity).find({ where: { authorityId: id }, order: { createdAt: 'ASC', id: 'ASC' } });
      const view: AuthorityView = {
        id: authority.id,
        name: authority.name,
        retentionPeriod: authority.retentionPeriod,
        claimDeadline: authority.claimDeadline,
        defaultUnitId: authority.defaultUnitId,
        units: units.map((u) => ({ id: u.id, name: u.name })),
      };
      if (withIngestUrl) {
        view.ingestUrl = authority.ingestUrl;
        view.ingestSecrets = await this.secrets.list(m, id);
      }
      return view;
    };
    return run(manager ?? this.db.manager);
  }

  async patch(id: string, input: AuthorityPatchInput): Promise<AuthorityView> {
    return this.messaging.transaction(async (manager, emit) => {
      const repo = manager.getRepository(AuthorityEntity);
      await lockAuthority(manager, id);
      if (input.defaultUnitId !== undefined) {
        const unit = await manager.getRepository(UnitEntity).findOneBy({ authorityId: id, id: input.defaultUnitId });
        if (!unit)
          throw ApiError.unprocessable('unknown-unit', 'defaultUnitId names no unit of this authority', [
            { field: 'defaultUnitId', message: 'is not a unit of this authority' },
          ]);
      }
      const { ingestSecret, ...fields } = input;
      // a secret set here replaces every active one at once; POST …/ingest-secret rotates without a gap
      if (ingestSecret !== undefined) await this.secrets.replace(manager, id, ingestSecret);
      await repo.update({ id }, { ...fields, updatedAt: () => 'now()' } as never);
      return this.publishAndView(manager, emit, id, true);
    });
  }

  /** A new current secret; the previous one keeps verifying until `previousSecretExpiresAt` (default 24 h). */
  async rotateIngestSecret(id: string, input: IngestSecretRotationInput): Promise<IngestSecretListView> {
    return this.db.transaction(async (manager) => {
      await lockAuthority(manager, id);
      const expiresAt = input.previousSecretExpiresAt
        ? new Date(input.previousSecretExpiresAt)
        : new Date(Date.now() + DEFAULT_PREVIOUS_SECRET_TTL_MS);
      await this.secrets.rotate(manager, id, input.ingestSecret, expiresAt);
      await manager.query(`UPDATE authorities SET updated_at = now() WHERE id = $1`, [id]);
      return { ingestSecrets: await this.secrets.list(manager, id) };
    });
  }

  async addUnit(authorityId: string, unit: UnitCreateInput): Promise<UnitCreatedView> {
    return this.messaging.transaction(async (manager, emit) => {
      const authority = await lockAuthority(manager, authorityId);
      const inserted: unknown[] = await manager.query(
        `INSERT INTO units (authority_id, id, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id`,
        [authorityId, unit.id, unit.name],
      );
      if (inserted.length === 0) throw ApiError.conflict('unit-exists', 'This authority already has a unit with this id');
      // The first unit becomes the default until an admin changes it.
      const isDefault = authority.defaultUnitId === null;
      if (isDefault)
        await manager.query(`UPDATE authorities SET default_unit_id = $2, updated_at = now() WHERE id = $1`, [authorityId, unit.id]);
      await this.publishAndView(manager, emit, authorityId, false);
      return { id: unit.id, name: unit.name, isDefault };
    });
  }

  /** Emits authority.changed with the state as of this transaction and returns the view. */
  async publishAndView(manager: EntityManager, emit: Emitter, id: string, withIngestUrl: boolean): Promise<AuthorityView> {
    const authority = await manager.getRepository(AuthorityEntity).findOneByOrFail({ id });
    await emit('authority.changed', await authoritySnapshot(manager, authority));
    return this.get(id, withIngestUrl, manager);
  }
}
