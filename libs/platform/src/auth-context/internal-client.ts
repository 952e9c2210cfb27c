import { randomUUID } from 'node:crypto';
import { signIdentity } from './identity-signature';

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
 * Calls another service's internal API as a service (role `service`, signed like the
 * gateway signs user identity). Used sparingly: events are the normal way to learn things.
 */
export class InternalClient {
  constructor(
    private readonly baseUrl: string,
    private readonly secret: string,
    private readonly service: string,
    private readonly timeoutMs = 5_000,
  ) {}

  private headers(method: string, path: string, requestId?: string) {
    return signIdentity(
      this.secret,
      { userId: this.service, role: 'service', authorityId: null, requestId: requestId ?? randomUUID() },
      method,
      path,
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
}
