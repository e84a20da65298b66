import type { DB, Kysely, ReadonlyKysely } from '@chat/db';
import { ChatError, type Attachment, type FileContentType } from '@chat/protocol';

type Reader = ReadonlyKysely<DB>;

/**
 * The files of each message (PROTOCOL.md "Files"): stored files uploaded for the message's id by its sender
 * and named by its send. One query for a page of messages, like reactions; deleted messages are left out by
 * the caller.
 */
export async function attachmentsOf(db: Reader, messages: readonly { id: string; sender_id: string }[]): Promise<Map<string, Attachment[]>> {
  const out = new Map<string, Attachment[]>();
  if (messages.length === 0) return out;
  const senders = new Map(messages.map((m) => [m.id, m.sender_id]));
  const rows = await db
    .selectFrom('files')
    .select(['id', 'message_id', 'uploader_id', 'name', 'content_type', 'size'])
    .where('message_id', 'in', [...senders.keys()])
    .where('state', '=', 'stored')
    .where('claimed', '=', true)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  for (const r of rows) {
    if (senders.get(r.message_id) !== r.uploader_id) continue;
    let list = out.get(r.message_id);
    if (!list) out.set(r.message_id, (list = []));
    list.push({ id: r.id, name: r.name, type: r.content_type as FileContentType, size: Number(r.size) });
  }
  return out;
}

/**
 * The files a `message:send` names, checked and claimed before the message is queued: each must be stored,
 * uploaded by the sender to this room for this message id. Any other is VALIDATION and nothing is sent or
 * claimed. Claiming is idempotent (a retry of the send claims the same files again), and a claimed file of
 * a message that never got stored shows nowhere: reads find files through their message.
 */
export async function claimAttachments(db: Kysely<DB>, send: { id: string; roomId: string; senderId: string; fileIds: readonly string[] }): Promise<Attachment[]> {
  const fileIds = [...new Set(send.fileIds)];
  const rows = await db
    .selectFrom('files')
    .select(['id', 'name', 'content_type', 'size'])
    .where('id', 'in', fileIds)
    .where('message_id', '=', send.id)
    .where('room_id', '=', send.roomId)
    .where('uploader_id', '=', send.senderId)
    .where('state', '=', 'stored')
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const unknown = fileIds.find((id) => !byId.has(id));
  if (unknown !== undefined) throw new ChatError('VALIDATION', 'an attachment is not a file you uploaded for this message', { details: { field: 'attachments', fileId: unknown } });
  await db.updateTable('files').set({ claimed: true }).where('id', 'in', fileIds).where('claimed', '=', false).execute();
  return fileIds.map((id) => {
    const r = byId.get(id)!;
    return { id: r.id, name: r.name, type: r.content_type as FileContentType, size: Number(r.size) };
  });
}
