import type { DB, Kysely, ReadonlyKysely } from '@chat/db';

export interface FileRow {
  id: string;
  room_id: string;
  message_id: string;
  uploader_id: string;
  name: string;
  content_type: string;
  size: number;
  storage_key: string;
  /** Whether the file's message has been sent (by its uploader) naming it, and whether it was deleted since. */
  sent: boolean;
  deleted: boolean;
}

/**
 * A stored file with the state of its message. A file belongs to a message only when the message's sender
 * uploaded it (anyone may name any message id in an upload; only the sender's own files show on it).
 */
export async function storedFile(db: ReadonlyKysely<DB>, fileId: string): Promise<FileRow | undefined> {
  const row = await db
    .selectFrom('files as f')
    .leftJoin('messages as m', (j) => j.onRef('m.id', '=', 'f.message_id').onRef('m.sender_id', '=', 'f.uploader_id').onRef('m.room_id', '=', 'f.room_id'))
    .select(['f.id', 'f.room_id', 'f.message_id', 'f.uploader_id', 'f.name', 'f.content_type', 'f.size', 'f.storage_key', 'f.claimed', 'm.id as sent_id', 'm.deleted_at'])
    .where('f.id', '=', fileId)
    .where('f.state', '=', 'stored')
    .executeTakeFirst();
  if (!row) return undefined;
  const { sent_id, deleted_at, claimed, ...file } = row;
  return { ...file, sent: sent_id !== null && claimed, deleted: deleted_at !== null };
}

/** Whether a message with this id exists already (a file cannot be added to a message after it was sent). */
export async function messageExists(db: ReadonlyKysely<DB>, messageId: string): Promise<boolean> {
  return (await db.selectFrom('messages').select('id').where('id', '=', messageId).executeTakeFirst()) !== undefined;
}

/** Files already uploaded by this user for this message id (stored or still arriving). */
export async function filesForMessage(db: ReadonlyKysely<DB>, messageId: string, uploaderId: string): Promise<number> {
  const row = await db
    .selectFrom('files')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('message_id', '=', messageId)
    .where('uploader_id', '=', uploaderId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Pending uploads older than `olderThanMs`: their node died while the bytes arrived. */
export async function abandonedUploads(db: Kysely<DB>, olderThanMs: number, limit: number): Promise<{ id: string; storage_key: string }[]> {
  return db
    .selectFrom('files')
    .select(['id', 'storage_key'])
    .where('state', '=', 'pending')
    .where('created_at', '<', new Date(Date.now() - olderThanMs))
    .limit(limit)
    .execute();
}
