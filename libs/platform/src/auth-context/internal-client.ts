import { randomUUID } from 'node:crypto';
import { SigningKey, parseSigningKey } from './identity-keys';
import { bodyDigest, signIdentity } from './identity-signature';

export class InternalCallError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
  ) {
    super(`internal call ${path} answered ${status}`);
    this.name = 'InternalCallError';
  }
}

/**
 * Calls another service's internal API as this service (role `service`), signed with
 * this service's own key (`SERVICE_SIGNING_KEY`), never the gateway's: the callee accepts
 * it only on `/internal/*` and only if it lists this service as a caller (ADR 0014).
 * Used sparingly: events are the normal way to learn things.
 */
export class InternalClient {
  private readonly key: SigningKey;

  constructor(
    private readonly baseUrl: string,
    signingKey: string | SigningKey,
    private readonly service: string,
    private readonly timeoutMs = 5_000,
  ) {
    this.key = typeof signingKey === 'string' ? parseSigningKey(signingKey) : signingKey;
    if (this.key.signer !== `service:${service}`) throw new Error(`SERVICE_SIGNING_KEY does not belong to ${service}`);
  }

  private headers(method: string, path: string, requestId?: string, body?: string) {
    return signIdentity(
      this.key,
      { userId: this.service, role: 'service', authorityId: null, requestId: requestId ?? randomUUID() },
      method,
      path,
      body === undefined ? undefined : bodyDigest(body),
    );
  }

  /** GET a JSON resource; null on 404. */
  async getJson<T>(path: string, requestId?: string): Promise<T | null> {
    const res = await fetch(new URL(path, this.baseUrl), {
      headers: this.headers('GET', path, requestId),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (res.status === 404) return null;
    if (!res.ok) throw new InternalCallError(res.status, path);
    return (await res.json()) as T;
  }

  /** POST a JSON body (its digest signed with the identity) and read the JSON answer; null on 404. */
  async postJson<T>(path: string, body: unknown, requestId?: string): Promise<T | null> {
    const text = JSON.stringify(body);
    const res = await fetch(new URL(path, this.baseUrl), {
      method: 'POST',
      headers: { ...this.headers('POST', path, requestId, text), 'content-type': 'application/json' },
      body: text,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (res.status === 404) return null;
    if (!res.ok) throw new InternalCallError(res.status, path);
    return (await res.json()) as T;
  }
}
