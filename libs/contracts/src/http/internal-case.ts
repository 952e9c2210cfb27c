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
