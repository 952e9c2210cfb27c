import { JWE_DESCRIPTION, Jwe, Timestamp, Uuid, pageOf, pageQueryShape } from './common';
import { z } from './zod';

export const MessageCreateSchema = z
  .object({
    contentBlob: Jwe.openapi({
      description: `${JWE_DESCRIPTION} Any \`kid\` is accepted (replies are encrypted to the citizen's \`replyKey\`).`,
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
