import { Injectable } from '@nestjs/common';
import { InternalThreadHolderSchema } from '@dvd/contracts';
import { ApiError, InternalClient } from '@dvd/platform';

/** The client for communication's internal API, as intake's own injection token. */
export abstract class CommunicationClient {
  abstract getJson<T>(path: string, requestId?: string): Promise<T | null>;
}

/** Signed with intake's own SERVICE_SIGNING_KEY: communication accepts it on `/internal/*` only (ADR 0014). */
export const communicationClient = (baseUrl: string, signingKey: string): CommunicationClient =>
  new InternalClient(baseUrl, signingKey, 'intake', 3_000);

/**
 * Whether an official holds (is assigned to) a thread of a document: communication owns the
 * threads, so intake asks it, on every decision (no copy to go stale). Unreachable → 503.
 */
@Injectable()
export class ThreadHolders {
  constructor(private readonly client: CommunicationClient) {}

  async holds(documentId: string, officialId: string, requestId?: string): Promise<boolean> {
    let raw: unknown;
    try {
      raw = await this.client.getJson<unknown>(
        `/internal/documents/${encodeURIComponent(documentId)}/holders/${encodeURIComponent(officialId)}`,
        requestId,
      );
    } catch {
      throw ApiError.unavailable('The thread service is unavailable; retry later');
    }
    if (raw === null) return false;
    const parsed = InternalThreadHolderSchema.safeParse(raw);
    if (!parsed.success || parsed.data.documentId !== documentId || parsed.data.officialId !== officialId) {
      throw ApiError.unavailable('The thread service is unavailable; retry later');
    }
    return true;
  }
}
