import { JWE_DESCRIPTION, Jwe, Timestamp, Uuid, pageOf, pageQueryShape } from './common';
import { z } from './zod';

/** Largest `contentBlob` (UTF-8 bytes); a larger one is answered with `413` (`message-too-large`). */
export const MAX_CONTENT_BLOB_BYTES = 256 * 1024;

export const MessageCreateSchema = z
  .object({
    contentBlob: Jwe.openapi({
      description:
        `${JWE_DESCRIPTION} Any \`kid\` is accepted (replies are encrypted to the citizen's \`replyKey\`). At most ` +
        `${MAX_CONTENT_BLOB_BYTES} bytes (256 KiB, UTF-8); a larger one → \`413\`.`,
    }),
  })
  .strict()
  .openapi('MessageCreate');

export const MessageSchema = z
  .object({
    id: Uuid,
    threadId: Uuid,
    senderRole: z.enum(['citizen', 'official', 'admin', 'platform-admin']),
    createdAt: Timestamp,
    contentBlob: Jwe,
  })
  .openapi('Message');

export const MessagePageSchema = pageOf('MessagePage', MessageSchema, 'A page of messages.');

export const MessageListQuery = z.object({
  ...pageQueryShape,
  after: z
    .string()
    .max(100)
    .optional()
    .openapi({ param: { description: 'Return the messages newer than this message (its id), oldest first.' } }),
});

export type MessageCreateInput = z.output<typeof MessageCreateSchema>;
export type MessageListFilter = z.output<typeof MessageListQuery>;
export type MessageView = z.input<typeof MessageSchema>;
export type MessagePageView = z.input<typeof MessagePageSchema>;
