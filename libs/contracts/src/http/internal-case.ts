import { pageQueryShape } from './common';
import { z } from './zod';

/**
 * communication's internal case API (`GET /internal/documents/{id}/threads` and
 * `…/threads/{threadId}/messages`, keyset-paged, oldest first), as export-worker reads it
 * to build a case package. Internal: not in the public OpenAPI document.
 */
export interface InternalCaseThread {
  id: string;
  type: string;
  status: string;
  assignedOfficialId: string | null;
  callback: unknown;
  appointment: unknown;
  createdAt: string;
  lastActivityAt: string;
}

export interface InternalCaseMessage {
  id: string;
  senderRole: string;
  createdAt: string;
  contentBlob: string;
}

/** `?limit=` (1–100, default 20) and `?cursor=` of both case lists, nothing else: a page is at most 100 messages of at most 256 KiB each. */
export const InternalCasePageQuery = z.object(pageQueryShape).strict();

/**
 * communication's answer to intake (`GET /internal/documents/{id}/holders/{officialId}`): the
 * threads of the document the official holds (is assigned to), open or closed; `404` when
 * none. Intake asks before an official accepts, rejects or forwards the document.
 * Internal: not in the public OpenAPI document.
 */
export const InternalThreadHolderSchema = z.object({
  documentId: z.string().uuid(),
  officialId: z.string().max(200),
  threadIds: z.array(z.string().uuid()).min(1).max(1000),
});

export type InternalThreadHolder = z.input<typeof InternalThreadHolderSchema>;
