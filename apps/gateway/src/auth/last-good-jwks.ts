import { JWSHeaderParameters, FlattenedJWSInput, KeyLike, createLocalJWKSet, createRemoteJWKSet, errors, jwksCache } from 'jose';

export interface LastGoodJwksOptions {
  /** Fresh keys are used without asking the IdP for this long. */
  cacheMaxAgeMs: number;
  /** At most one refetch per this interval (unknown `kid`s, background refreshes). */
  cooldownMs: number;
  /** While fetching fails, the last good keys serve for this long after they were fetched. */
  maxStaleMs: number;
  timeoutMs?: number;
}

type KeyLookup = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<KeyLike>;

/**
 * An IdP's JWKS as jose's remote key set, with one addition: when the key endpoint fails
 * (down, slow, answering garbage), tokens signed with keys we already fetched still verify
 * for a bounded time. Once the cache is stale a refresh runs in the background (at most
 * one per cooldown) and requests are answered from the last good keys meanwhile; only after
 * `maxStaleMs` without a successful fetch does every request wait for — and fail with — the
 * endpoint. Key lookups that found no key are never answered from the stale set in a way
 * that hides a rotation: an unknown `kid` still asks the IdP (subject to the cooldown).
 */
export class LastGoodJwks {
  private readonly remote: ReturnType<typeof createRemoteJWKSet>;
  /** Filled by jose after every successful fetch: the keys and when they came. */
  private readonly cache: { jwks?: Parameters<typeof createLocalJWKSet>[0]; uat?: number } = {};
  private lastGood?: { uat: number; lookup: KeyLookup };
  private lastBackgroundAttempt = 0;

  constructor(
    url: URL,
    private readonly options: LastGoodJwksOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.remote = createRemoteJWKSet(url, {
      cooldownDuration: options.cooldownMs,
      cacheMaxAge: options.cacheMaxAgeMs,
      timeoutDuration: options.timeoutMs ?? 5_000,
      [jwksCache]: this.cache as never,
    });
  }

  /** The key lookup jose's jwtVerify takes. */
  readonly getKey: KeyLookup = async (header, token) => {
    const last = this.remembered();
    if (last && !this.remote.fresh && this.now() - last.uat < this.options.maxStaleMs) {
      this.refreshInBackground();
      try {
        return await last.lookup(header, token);
      } catch (err) {
        if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
        // an unknown kid: ask the IdP below (a rotation), within the cooldown
      }
    }
    try {
      return await this.remote(header, token);
    } catch (err) {
      const fresh = this.remembered();
      if (isLookupResult(err) || !fresh || this.now() - fresh.uat >= this.options.maxStaleMs) throw err;
      return fresh.lookup(header, token); // the endpoint failed: the last good keys answer
    }
  };

  /** When the keys in use were fetched (undefined before the first success). */
  get fetchedAt(): number | undefined {
    return this.cache.uat;
  }

  /**
   * Identifies the key set while it is fresh (fetched less than `cacheMaxAgeMs` ago): the time
   * it was fetched; undefined while it is stale or missing. A verification remembered under a
   * generation holds only while the same keys are fresh: once they age, the next request
   * verifies in full (and refreshes them); once they are refetched, with the new keys.
   */
  get freshGeneration(): number | undefined {
    const uat = this.cache.uat;
    return uat !== undefined && this.remote.fresh ? uat : undefined;
  }

  private remembered() {
    const { jwks, uat } = this.cache;
    if (!jwks || uat === undefined) return undefined;
    if (this.lastGood?.uat !== uat) this.lastGood = { uat, lookup: createLocalJWKSet(jwks) as KeyLookup };
    return this.lastGood;
  }

  private refreshInBackground() {
    if (this.remote.reloading || this.now() - this.lastBackgroundAttempt < this.options.cooldownMs) return;
    this.lastBackgroundAttempt = this.now();
    this.remote.reload().catch(() => undefined); // still down: the last good keys keep serving
  }
}

/** Errors that are an answer about the keys (not a failure to get them). */
function isLookupResult(err: unknown): boolean {
  return err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys;
}
