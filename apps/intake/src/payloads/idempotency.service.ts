import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { IdempotencyKey } from '@dvd/contracts';
import { ApiError } from '@dvd/platform';
import { INTAKE_CONFIG } from '../intake-config.token';
import { IntakeConfig } from '../intake.config';

export const IDEMPOTENCY_TTL = '24 hours';

/**
 * A request's hold on its Idempotency-Key: a lease of IDEMPOTENCY_LEASE_MS, extended every
 * third of it while the request lives. `stop()` ends the heartbeat (the request finished
 * or failed); a crashed process simply stops extending, and the key is free one lease later.
 */
export class IdempotencyLease {
  private timer?: NodeJS.Timeout;
  /** Set when an extension found the claim no longer ours (it expired and a retry took over). */
  lost = false;

  constructor(
    readonly scope: IdempotencyScope,
    readonly citizenId: string,
    readonly key: string,
    readonly token: string,
    private readonly extend: (lease: IdempotencyLease) => Promise<boolean>,
    leaseMs: number,
  ) {
    this.timer = setInterval(() => void this.beat(), Math.max(10, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  private async beat() {
    try {
      if (!(await this.extend(this))) {
        this.lost = true;
        this.stop();
      }
    } catch {
      // Postgres briefly unreachable: the next beat tries again well before the lease ends
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The response as the first request answered it (an upload's `DocumentCreated`, a forward's `DocumentForwarded`). */
export interface StoredResponse<B> {
  status: number;
  location?: string;
  body: B;
}

/** Key spaces: a citizen's uploads, an official's forwards. */
export type IdempotencyScope = 'upload' | 'forward';

export type Claim<B> = { state: 'claimed'; lease: IdempotencyLease } | { state: 'done'; fingerprint: string; response: StoredResponse<B> };

/**
 * Idempotency-Key per caller and scope (IETF draft): the first request claims the key; a duplicate
 * while it is in flight → 409; after it succeeded, the same request gets the first
 * response again and a different one → 422. Failed requests release the key. The claim
 * is a short lease kept alive by the request (IdempotencyLease), so a crashed request
 * blocks its key for one lease, not for half an hour; the claim's token fences the
 * request that lost its lease: it can neither complete nor release the new owner's claim.
 */
@Injectable()
export class IdempotencyService {
  private readonly leaseMs: number;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(INTAKE_CONFIG) config: IntakeConfig,
  ) {
    this.leaseMs = config.IDEMPOTENCY_LEASE_MS;
  }

  /** The header by the contract's `IdempotencyKey` (1 to 100 printable ASCII characters), or 400. */
  static validateKey(key: string | undefined): string | undefined {
    const parsed = IdempotencyKey.safeParse(key);
    if (!parsed.success) {
      throw ApiError.badRequest('The Idempotency-Key header is invalid', [
        { field: 'Idempotency-Key', message: 'must be 1 to 100 printable ASCII characters' },
      ]);
    }
    return parsed.data;
  }

  async claim<B>(scope: IdempotencyScope, citizenId: string, key: string): Promise<Claim<B>> {
    const token = randomUUID();
    const claimed: unknown[] = await this.db.query(
      `INSERT INTO idempotency_keys (scope, citizen_id, key, status, lock_token, locked_until, expires_at)
       VALUES ($5, $1, $2, 'IN_FLIGHT', $3, now() + ($4::bigint * interval '1 millisecond'), now() + interval '${IDEMPOTENCY_TTL}')
       ON CONFLICT (scope, citizen_id, key) DO UPDATE
          SET status = 'IN_FLIGHT', fingerprint = NULL, response = NULL, document_id = NULL, lock_token = EXCLUDED.lock_token,
              locked_until = EXCLUDED.locked_until, expires_at = EXCLUDED.expires_at, created_at = now()
        WHERE idempotency_keys.expires_at < now()
           OR (idempotency_keys.status = 'IN_FLIGHT' AND idempotency_keys.locked_until < now())
       RETURNING key`,
      [citizenId, key, token, this.leaseMs, scope],
    );
    if (claimed.length === 1) {
      return { state: 'claimed', lease: new IdempotencyLease(scope, citizenId, key, token, (l) => this.extend(l), this.leaseMs) };
    }
    const rows: Array<{ status: string; fingerprint: string; response: StoredResponse<B> }> = await this.db.query(
      `SELECT status, fingerprint, response FROM idempotency_keys WHERE scope = $3 AND citizen_id = $1 AND key = $2`,
      [citizenId, key, scope],
    );
    const row = rows[0];
    if (!row || row.status === 'IN_FLIGHT') {
      throw ApiError.conflict('idempotency-key-in-flight', 'A request with this Idempotency-Key is still being processed; retry later');
    }
    return { state: 'done', fingerprint: row.fingerprint, response: row.response };
  }

  /** Moves the lease's end one lease ahead; false if the claim is no longer this request's. */
  private async extend(lease: IdempotencyLease): Promise<boolean> {
    const [rows] = (await this.db.query(
      `UPDATE idempotency_keys SET locked_until = now() + ($4::bigint * interval '1 millisecond')
        WHERE scope = $5 AND citizen_id = $1 AND key = $2 AND lock_token = $3 AND status = 'IN_FLIGHT' RETURNING key`,
      [lease.citizenId, lease.key, lease.token, this.leaseMs, lease.scope],
    )) as [unknown[], number];
    return rows.length === 1;
  }

  /**
   * Completes the claim in the transaction that created the document. If the lease was
   * lost meanwhile (expired, and a retry took the key over), the transaction is refused:
   * one key, one document.
   */
  async complete<B>(
    manager: EntityManager,
    lease: IdempotencyLease,
    fingerprint: string,
    documentId: string,
    response: StoredResponse<B>,
  ): Promise<void> {
    const [rows] = (await manager.query(
      `UPDATE idempotency_keys SET status = 'DONE', fingerprint = $4, document_id = $5, response = $6, lock_token = NULL
        WHERE scope = $7 AND citizen_id = $1 AND key = $2 AND lock_token = $3 AND status = 'IN_FLIGHT' RETURNING key`,
      [lease.citizenId, lease.key, lease.token, fingerprint, documentId, JSON.stringify(response), lease.scope],
    )) as [unknown[], number];
    if (rows.length !== 1) {
      throw ApiError.conflict('idempotency-key-in-flight', 'A request with this Idempotency-Key is still being processed; retry later');
    }
  }

  async release(lease: IdempotencyLease): Promise<void> {
    lease.stop();
    await this.db
      .query(
        `DELETE FROM idempotency_keys WHERE scope = $4 AND citizen_id = $1 AND key = $2 AND lock_token = $3 AND status = 'IN_FLIGHT'`,
        [lease.citizenId, lease.key, lease.token, lease.scope],
      )
      .catch(() => undefined);
  }
}
