import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

/**
 * A bounded in-memory map whose entries expire. The development IdP keeps its sessions,
 * grants, codes and tokens here: they are lost on restart (the signing keys are not), and
 * the oldest entries give way once `maxEntries` is reached.
 */
export class TtlStore<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(private readonly maxEntries = 10_000) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** `ttlSeconds` undefined: kept until evicted. */
  set(key: string, value: V, ttlSeconds?: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.evict();
    this.entries.set(key, { value, expiresAt: ttlSeconds === undefined ? Infinity : Date.now() + ttlSeconds * 1000 });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Drops what has expired, and if that is not enough the oldest tenth (insertion order). */
  private evict(): void {
    const now = Date.now();
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
    if (this.entries.size < this.maxEntries) return;
    let drop = Math.ceil(this.maxEntries / 10);
    for (const k of this.entries.keys()) {
      if (drop-- <= 0) break;
      this.entries.delete(k);
    }
  }
}

type Stored = AdapterPayload | string | string[];

/**
 * oidc-provider's storage interface over one TtlStore per provider (models are kept
 * apart by key prefix; grant members are indexed so that a revoked grant takes its codes
 * and tokens along).
 */
export function memoryAdapter(store = new TtlStore<Stored>()): AdapterFactory {
  return (model: string): Adapter => {
    const key = (id: string) => `${model}:${id}`;
    const find = async (id: string) => store.get(key(id)) as AdapterPayload | undefined;
    return {
      find,
      async upsert(id, payload, expiresIn) {
        store.set(key(id), payload, expiresIn);
        if (model === 'Session' && payload.uid) store.set(`sessionUid:${payload.uid}`, id, expiresIn);
        if (payload.userCode) store.set(`userCode:${payload.userCode}`, id, expiresIn);
        if (payload.grantId && model !== 'Grant') {
          const members = (store.get(`grant:${payload.grantId}`) as string[] | undefined) ?? [];
          // the index lives as long as the longest-lived member could
          store.set(`grant:${payload.grantId}`, [...members.filter((m) => m !== key(id)), key(id)]);
        }
      },
      async findByUid(uid) {
        const id = store.get(`sessionUid:${uid}`);
        return typeof id === 'string' ? find(id) : undefined;
      },
      async findByUserCode(userCode) {
        const id = store.get(`userCode:${userCode}`);
        return typeof id === 'string' ? find(id) : undefined;
      },
      async consume(id) {
        const payload = store.get(key(id)) as AdapterPayload | undefined;
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        store.delete(key(id));
      },
      async revokeByGrantId(grantId) {
        const members = (store.get(`grant:${grantId}`) as string[] | undefined) ?? [];
        for (const member of members) store.delete(member);
        store.delete(`grant:${grantId}`);
      },
    };
  };
}
