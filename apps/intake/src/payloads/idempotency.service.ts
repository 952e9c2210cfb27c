import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ApiError } from '@dvd/platform';

export const IDEMPOTENCY_TTL = '24 hours';
/** How long an in-flight claim blocks duplicates before a crashed request's key is taken over. */
export const IDEMPOTENCY_LOCK = '30 minutes';

export interface StoredResponse {
  status: number;
  location: string;
  body: unknown;
}

export type Claim = { state: 'claimed' } | { state: 'done'; fingerprint: string; response: StoredResponse };

/**
 * Idempotency-Key per citizen (IETF draft): the first request claims the key; a duplicate
 * while it is in flight → 409; after it succeeded, the same request gets the first
 * response again and a different one → 422. Failed requests release the key.
 */
@Injectable()
export class IdempotencyService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  static validateKey(key: string | undefined): string | undefined {
    if (key === undefined) return undefined;
    if (key.length === 0 || key.length > 100 || !/^[\x20-\x7e]+$/.test(key)) {
      throw ApiError.badRequest('The Idempotency-Key header is invalid', [
        { field: 'Idempotency-Key', message: 'must be 1 to 100 printable ASCII characters' },
      ]);
    }
    return key;
  }

  async claim(citizenId: string, key: string): Promise<Claim> {
    const claimed: unknown[] = await this.db.query(
      `INSERT INTO idempotency_keys (citizen_id, key, status, locked_until, expires_at)
       VALUES ($1, $2, 'IN_FLIGHT', now() + interval '${IDEMPOTENCY_LOCK}', now() + interval '${IDEMPOTENCY_TTL}')
       ON CONFLICT (citizen_id, key) DO UPDATE
          SET status = 'IN_FLIGHT', fingerprint = NULL, response = NULL, document_id = NULL,
              locked_until = EXCLUDED.locked_until, expires_at = EXCLUDED.expires_at, created_at = now()
        WHERE idempotency_keys.expires_at < now()
           OR (idempotency_keys.status = 'IN_FLIGHT' AND idempotency_keys.locked_until < now())
       RETURNING key`,
      [citizenId, key],
    );
    if (claimed.length === 1) return { state: 'claimed' };
    const rows: Array<{ status: string; fingerprint: string; response: StoredResponse }> = await this.db.query(
      `SELECT status, fingerprint, response FROM idempotency_keys WHERE citizen_id = $1 AND key = $2`,
      [citizenId, key],
    );
    const row = rows[0];
    if (!row || row.status === 'IN_FLIGHT') {
      throw ApiError.conflict('idempotency-key-in-flight', 'A request with this Idempotency-Key is still being processed; retry later');
    }
    return { state: 'done', fingerprint: row.fingerprint, response: row.response };
  }

  /** Completes the claim in the transaction that created the document. */
  async complete(
    manager: EntityManager,
    citizenId: string,
    key: string,
    fingerprint: string,
    documentId: string,
    response: StoredResponse,
  ): Promise<void> {
    await manager.query(
      `UPDATE idempotency_keys SET status = 'DONE', fingerprint = $3, document_id = $4, response = $5 WHERE citizen_id = $1 AND key = $2`,
      [citizenId, key, fingerprint, documentId, JSON.stringify(response)],
    );
  }

  async release(citizenId: string, key: string): Promise<void> {
    await this.db
      .query(`DELETE FROM idempotency_keys WHERE citizen_id = $1 AND key = $2 AND status = 'IN_FLIGHT'`, [citizenId, key])
      .catch(() => undefined);
  }
}
