import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { IngestSecretInfoView } from '@dvd/contracts';
import { SecretBox, ingestSecretContext } from '@dvd/platform';

/**
 * What the API shows of an ingest secret, never the secret itself: the contract's
 * `IngestSecretInfo` (`expiresAt` null for the current secret; set for the previous one during a rotation).
 */
export type IngestSecretView = IngestSecretInfoView;

const ACTIVE = `(expires_at IS NULL OR expires_at > now())`;

/**
 * An authority's webhook secrets (`routing.ingest_secrets`), sealed with SecretBox before
 * they reach the database; the authority id is the envelope's context, so a value copied
 * to another authority's row does not open. At most two are active: the current one and,
 * during a rotation, the previous one until its `expires_at`.
 */
@Injectable()
export class IngestSecretStore {
  constructor(
    private readonly box: SecretBox,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  /** Replaces every secret of the authority by this one, effective at once (e.g. after a leak). */
  async replace(manager: EntityManager, authorityId: string, secret: string): Promise<void> {
    await manager.query(`DELETE FROM ingest_secrets WHERE authority_id = $1`, [authorityId]);
    await this.insert(manager, authorityId, secret);
  }

  /**
   * Makes `secret` the current one; the current one stays active until `previousExpiresAt`,
   * any older one is removed. The caller holds the authority's row lock.
   */
  async rotate(manager: EntityManager, authorityId: string, secret: string, previousExpiresAt: Date): Promise<void> {
    const [current] = (await manager.query(
      `SELECT id FROM ingest_secrets WHERE authority_id = $1 AND ${ACTIVE} ORDER BY created_at DESC, id LIMIT 1`,
      [authorityId],
    )) as Array<{ id: string }>;
    await manager.query(`DELETE FROM ingest_secrets WHERE authority_id = $1 AND id IS DISTINCT FROM $2`, [
      authorityId,
      current?.id ?? null,
    ]);
    if (current) await manager.query(`UPDATE ingest_secrets SET expires_at = $2 WHERE id = $1`, [current.id, previousExpiresAt]);
    await this.insert(manager, authorityId, secret);
  }

  async list(manager: EntityManager, authorityId: string): Promise<IngestSecretView[]> {
    const rows = (await manager.query(
      `SELECT id, created_at, expires_at FROM ingest_secrets WHERE authority_id = $1 AND ${ACTIVE} ORDER BY created_at DESC, id`,
      [authorityId],
    )) as Array<{ id: string; created_at: Date; expires_at: Date | null }>;
    return rows.map((r) => ({ id: r.id, createdAt: r.created_at.toISOString(), expiresAt: r.expires_at?.toISOString() ?? null }));
  }

  /** The active secrets' envelopes, current first, for the export worker (which holds the key to open them). */
  async activeSealed(authorityId: string): Promise<string[]> {
    const rows = (await this.db.query(
      `SELECT sealed_secret FROM routing.ingest_secrets WHERE authority_id = $1 AND ${ACTIVE} ORDER BY created_at DESC, id LIMIT 2`,
      [authorityId],
    )) as Array<{ sealed_secret: string }>;
    // a legacy plaintext row is never handed out (it is sealed at start, see IngestSecretSealer)
    return rows.map((r) => r.sealed_secret).filter((v) => SecretBox.isSealed(v));
  }

  /**
   * Seals plaintext rows left by the migration, re-seals rows under an older key after a key
   * rotation, and drops expired secrets. Row locks make concurrent replicas harmless.
   * Returns counts (never values); rows whose key is gone are counted as `unreadable`.
   */
  async sealPending(): Promise<{ sealed: number; resealed: number; unreadable: number; expired: number }> {
    return this.db.transaction(async (manager) => {
      const [, expired] = (await manager.query(`DELETE FROM routing.ingest_secrets WHERE NOT ${ACTIVE}`)) as [unknown, number];
      const rows = (await manager.query(
        `SELECT id, authority_id, sealed_secret FROM routing.ingest_secrets WHERE left(sealed_secret, $1) <> $2 FOR UPDATE`,
        [`v1.${this.box.primaryKid}.`.length, `v1.${this.box.primaryKid}.`],
      )) as Array<{ id: string; authority_id: string; sealed_secret: string }>;
      const counts = { sealed: 0, resealed: 0, unreadable: 0, expired };
      for (const row of rows) {
        const context = ingestSecretContext(row.authority_id);
        let plaintext: string;
        if (!SecretBox.isSealed(row.sealed_secret)) {
          plaintext = row.sealed_secret;
          counts.sealed++;
        } else {
          try {
            plaintext = this.box.open(row.sealed_secret, context);
            counts.resealed++;
          } catch {
            counts.unreadable++;
            continue;
          }
        }
        await manager.query(`UPDATE routing.ingest_secrets SET sealed_secret = $2 WHERE id = $1`, [
          row.id,
          this.box.seal(plaintext, context),
        ]);
      }
      return counts;
    });
  }

  private async insert(manager: EntityManager, authorityId: string, secret: string): Promise<void> {
    await manager.query(`INSERT INTO ingest_secrets (id, authority_id, sealed_secret) VALUES ($1, $2, $3)`, [
      randomUUID(),
      authorityId,
      this.box.seal(secret, ingestSecretContext(authorityId)),
    ]);
  }
}
