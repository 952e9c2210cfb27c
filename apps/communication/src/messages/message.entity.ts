import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'messages' })
export class MessageEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'thread_id' }) threadId!: string;
  @Column('text', { name: 'sender_id' }) senderId!: string;
  @Column('text', { name: 'sender_role' }) senderRole!: string;
  /** A JWE; the server never reads what is inside. Never logged. */
  @Column('text', { name: 'content_blob' }) contentBlob!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
}
