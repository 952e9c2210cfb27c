/**
 * The SDK's types, taken from the contracts (libs/contracts): a field added to or removed
 * from a contract schema changes these types, and the SDK's type check follows.
 */
import type { z } from 'zod';
import type {
  AppointmentConfirmSchema,
  AuthorityCreateSchema,
  AuthorityPatchSchema,
  AuthoritySchema,
  DeadLetterListQuery,
  DeadLetterPageSchema,
  DeadLetterReplayedSchema,
  DeadLetterSchema,
  DocumentCreatedSchema,
  DocumentForwardedSchema,
  DocumentHistoryEntrySchema,
  DocumentHistoryPageSchema,
  DocumentHistoryQuery,
  DocumentListQuery,
  DocumentMetadataSchema,
  DocumentPageSchema,
  DocumentReceiptSchema,
  DocumentRejectSchema,
  DocumentSchema,
  ReceiptClaimsSchema,
  ReceiptJwksSchema,
  EventTicketSchema,
  ExportAcceptedSchema,
  ExportJobSchema,
  ExportWebhookSchema,
  IngestSecretListSchema,
  IngestSecretRotationSchema,
  JwkInputSchema,
  JwkSchema,
  JwksSchema,
  MessageListQuery,
  MessagePageSchema,
  MessageSchema,
  PageQuery,
  RoutingRuleInputSchema,
  RoutingRulePageSchema,
  RoutingRuleSchema,
  RoutingResultSchema,
  ThreadCreateSchema,
  ThreadListQuery,
  ThreadPageSchema,
  ThreadSchema,
  UnitCreateSchema,
  UnitCreatedSchema,
  UnitSchema,
  UnroutableDocumentPageSchema,
  UnroutableListQuery,
} from '@dvd/contracts';

type In<T extends z.ZodTypeAny> = z.input<T>;
type Out<T extends z.ZodTypeAny> = z.output<T>;
/** Query objects: every member optional (defaults are the server's). */
type QueryOf<T extends z.ZodTypeAny> = Partial<z.input<T>>;

export type Authority = Out<typeof AuthoritySchema>;
export type AuthorityCreate = In<typeof AuthorityCreateSchema>;
export type AuthorityPatch = In<typeof AuthorityPatchSchema>;
export type IngestSecretRotation = In<typeof IngestSecretRotationSchema>;
export type IngestSecretList = Out<typeof IngestSecretListSchema>;
export type Unit = Out<typeof UnitSchema>;
export type UnitCreated = Out<typeof UnitCreatedSchema>;
export type UnitCreate = In<typeof UnitCreateSchema>;
export type Jwk = Out<typeof JwkSchema>;
export type JwkInput = In<typeof JwkInputSchema>;
export type Jwks = Out<typeof JwksSchema>;
export type RoutingRule = Out<typeof RoutingRuleSchema>;
export type RoutingRuleInput = In<typeof RoutingRuleInputSchema>;
export type RoutingRulePage = Out<typeof RoutingRulePageSchema>;
export type DocumentMetadata = In<typeof DocumentMetadataSchema>;
export type DvdDocument = Out<typeof DocumentSchema>;
export type DocumentPage = Out<typeof DocumentPageSchema>;
export type DocumentListParams = QueryOf<typeof DocumentListQuery>;
export type RoutingResult = Out<typeof RoutingResultSchema>;
export type DocumentCreated = Out<typeof DocumentCreatedSchema>;
export type DocumentReceipt = Out<typeof DocumentReceiptSchema>;
export type ReceiptClaims = Out<typeof ReceiptClaimsSchema>;
export type ReceiptJwks = Out<typeof ReceiptJwksSchema>;
export type DocumentReject = In<typeof DocumentRejectSchema>;
export type RejectReason = DocumentReject['reasonCode'];
export type DocumentForwarded = Out<typeof DocumentForwardedSchema>;
export type DocumentHistoryEntry = Out<typeof DocumentHistoryEntrySchema>;
export type DocumentHistoryPage = Out<typeof DocumentHistoryPageSchema>;
export type DocumentHistoryParams = QueryOf<typeof DocumentHistoryQuery>;
export type Thread = Out<typeof ThreadSchema>;
export type ThreadCreate = In<typeof ThreadCreateSchema>;
export type ThreadPage = Out<typeof ThreadPageSchema>;
export type ThreadListParams = QueryOf<typeof ThreadListQuery>;
export type AppointmentConfirm = In<typeof AppointmentConfirmSchema>;
export type Message = Out<typeof MessageSchema>;
export type MessagePage = Out<typeof MessagePageSchema>;
export type MessageListParams = QueryOf<typeof MessageListQuery>;
export type ExportAccepted = Out<typeof ExportAcceptedSchema>;
export type ExportJob = Out<typeof ExportJobSchema>;
export type ExportWebhook = Out<typeof ExportWebhookSchema>;
export type EventTicket = Out<typeof EventTicketSchema>;
export type { StreamEvent, StreamEventType } from '@dvd/contracts';
export type PageParams = QueryOf<typeof PageQuery>;
export type UnroutablePage = Out<typeof UnroutableDocumentPageSchema>;
export type UnroutableListParams = QueryOf<typeof UnroutableListQuery>;
export type DeadLetterPage = Out<typeof DeadLetterPageSchema>;
export type DeadLetterListParams = QueryOf<typeof DeadLetterListQuery>;
export type DeadLetter = Out<typeof DeadLetterSchema>;
export type DeadLetterReplayed = Out<typeof DeadLetterReplayedSchema>;
export type ServiceWithDeadLetters = 'intake' | 'routing-engine' | 'communication' | 'export-worker';
