import { AuthorityId, SHA256_HEX_PATTERN, Timestamp, Uuid } from './common';
import { z } from './zod';

export const EXPORT_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED'] as const;
export const EXPORT_ERROR_CATEGORIES = [
  'payload-unreadable',
  'payload-mismatch',
  'messages-unavailable',
  'package-write-failed',
  'service-unavailable',
  'document-gone',
  'no-ingest-settings',
  'delivery-retryable',
  'delivery-rejected',
  'duplicate',
] as const;

export const ExportCreateSchema = z.object({ documentId: Uuid }).strict().openapi('ExportCreate');

export const ExportAcceptedSchema = z
  .object({
    jobId: Uuid,
    documentId: Uuid.optional(),
    status: z.enum(EXPORT_STATUSES).openapi({
      description:
        '`PENDING` for a new job (202); with 200, the status of the earlier job that answers the request (`PENDING`, ' +
        '`RUNNING` or `COMPLETED`; `FAILED` only if that job failed while the request was answered).',
    }),
  })
  .openapi('ExportAccepted');

export const ExportJobSchema = z
  .object({
    jobId: Uuid,
    documentId: Uuid,
    status: z.enum(EXPORT_STATUSES),
    attempts: z.number().int().min(0).openapi({ description: 'Delivery attempts made so far.' }),
    lastError: z
      .string()
      .nullable()
      .openapi({
        description:
          "Why the last attempt failed, as a category (never the receiver's answer): `target-forbidden`, `invalid-target`, " +
          '`dns`, `timeout`, `connection-refused`, `connection-reset`, `tls`, `network`, `http-3xx` (redirects are not ' +
          'followed), `http-4xx`, `http-5xx`, `receipt-too-large`, `invalid-receipt`, `secret-unavailable`; after the last ' +
          'retry followed by ` (after <n> attempts)`. `null` if none failed.',
        example: 'http-5xx',
      }),
    lastErrorCategory: z
      .enum(EXPORT_ERROR_CATEGORIES)
      .nullable()
      .optional()
      .openapi({
        // the generator widens the type to include null but not the enum; the services answer null
        enum: [...EXPORT_ERROR_CATEGORIES, null],
        description:
          'Why the last attempt failed, as a stable category (never raw error text); `null` if none failed or the job ' +
          'completed. Failures building the package (storage, communication, disk) and `delivery-retryable` are retried.',
      }),
    createdAt: Timestamp,
    completedAt: Timestamp.nullable().openapi({ description: 'When the job completed or finally failed.' }),
    receipt: z
      .record(z.unknown())
      .nullable()
      .openapi({
        description:
          "The authority's response body to the successful delivery, kept only if it is a JSON object of at most 4 KiB " +
          'nested at most 4 levels deep (a larger or other JSON answer fails the job).',
      }),
  })
  .openapi('ExportJob');

export const ExportParams = z.object({ jobId: Uuid.openapi({ param: { description: 'Export job id.' } }) });

/** The body the export worker POSTs to the authority's `ingestUrl` (a Standard Webhooks message). */
export const ExportWebhookSchema = z
  .object({
    type: z.enum(['export.package']),
    timestamp: Timestamp,
    data: z.object({
      jobId: Uuid,
      documentId: Uuid,
      authorityId: AuthorityId,
      package: z.object({
        contentType: z.enum(['application/zip']),
        size: z.number().int().min(0).openapi({ format: 'int64', description: 'Bytes of the ZIP.' }),
        sha256: z.string().regex(SHA256_HEX_PATTERN).openapi({ description: 'SHA-256 of the ZIP, lowercase hex.' }),
        base64: z.string().openapi({ format: 'byte', description: 'The ZIP, base64-encoded.' }),
      }),
    }),
  })
  .openapi('ExportWebhook', {
    description:
      'The package envelope. The ZIP holds `manifest.json` (document metadata, thread and message metadata, sha256 of every ' +
      'file), `payload.jwe` (the encrypted container byte for byte) and `messages.json` (every thread with its encrypted ' +
      'messages, oldest first). Request headers: `webhook-id`, `webhook-timestamp`, `webhook-signature`, `Idempotency-Key`, ' +
      '`X-DVD-Document-Id` (see the `exportPackage` webhook).',
  });

/** The Standard Webhooks request headers of an export delivery. */
export const ExportWebhookHeaders = z.object({
  'webhook-id': Uuid.openapi({ param: { description: 'The job id; the same on every retry.' } }),
  'webhook-timestamp': z
    .string()
    .regex(/^[0-9]+$/)
    .openapi({ param: { description: 'Unix seconds of this attempt.' }, example: '1738315800' }),
  'webhook-signature': z.string().openapi({
    param: {
      description:
        '`v1,<base64 HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>">`, keyed with the authority\'s `ingestSecret` ' +
        '(the base64-decoded bytes after `whsec_`); during a secret rotation one space-separated `v1,<sig>` per active ' +
        'secret, current first.',
    },
    example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
  }),
  'Idempotency-Key': Uuid.openapi({ param: { description: 'The job id.' } }),
  'X-DVD-Document-Id': Uuid.openapi({ param: { description: 'The document id.' } }),
});

export type ExportStatus = (typeof EXPORT_STATUSES)[number];
export type ExportErrorCategory = (typeof EXPORT_ERROR_CATEGORIES)[number];
export type ExportJobView = z.input<typeof ExportJobSchema>;
export type ExportAcceptedView = z.input<typeof ExportAcceptedSchema>;
