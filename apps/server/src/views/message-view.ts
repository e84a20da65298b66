import type { Attachment, Message, ReactionSummary } from '@chat/protocol';

/** A message row joined with its sender's display name, as every read path selects it. */
export interface MessageRow {
  id: string;
  room_id: string;
  seq: number;
  sender_id: string;
  sender_name: string;
  content: string;
  reply_to: string | null;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
}

/**
 * The wire form of a message. A deleted message is a tombstone: it keeps its seq (so history stays
 * gapless) but not its content, reactions or files.
 */
export function toMessage(row: MessageRow, reactions?: ReactionSummary[], attachments?: Attachment[]): Message {
  const m: Message = {
    id: row.id,
    roomId: row.room_id,
    seq: row.seq,
    senderId: row.sender_id,
    senderName: row.sender_name,
    content: row.deleted_at ? '' : row.content,
    createdAt: row.created_at.toISOString(),
  };
  if (row.reply_to) m.replyTo = row.reply_to;
  if (row.edited_at) m.editedAt = row.edited_at.toISOString();
  if (row.deleted_at) m.deleted = true;
  else {
    if (reactions && reactions.length > 0) m.reactions = reactions;
    if (attachments && attachments.length > 0) m.attachments = attachments;
  }
  return m;
}
