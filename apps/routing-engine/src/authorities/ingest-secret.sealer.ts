import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { IngestSecretStore } from './ingest-secret.store';

/**
 * At every start, before the app listens: seals ingest secrets still in plaintext (rows
 * from before encryption at rest) and re-seals those under a key that is no longer the
 * first of SECRETS_ENCRYPTION_KEYS — so a key rotation completes with a rolling restart.
 */
@Injectable()
export class IngestSecretSealer implements OnApplicationBootstrap {
  private readonly logger = new Logger(IngestSecretSealer.name);

  constructor(private readonly store: IngestSecretStore) {}

  async onApplicationBootstrap(): Promise<void> {
    const counts = await this.store.sealPending();
    if (counts.unreadable > 0)
      this.logger.error(
        counts,
        'ingest secrets sealed with a key missing from SECRETS_ENCRYPTION_KEYS; their deliveries fail until set anew',
      );
    else if (counts.sealed + counts.resealed + counts.expired > 0) this.logger.log(counts, 'ingest secrets sealed');
  }
}
