import { asReadonly, sql, type DB, type Kysely } from '@chat/db';
import { ChatError, LIMITS, type Message, type ReactionSummary } from '@chat/protocol';
import type { MessageRow } from '../../views/message-view';
import { reactionsOf, toMessages } from './message-reads';

/**
 * Changes to stored messages other than sending (group-commit.ts): edits, tombstones and reactions, on the
 * primary. The caller has checked who may make them.
 */

/** The edited message with its reactions; CONFLICT when it was deleted meanwhile. */
export async function editMessage(db: Kysely<DB>, row: MessageRow, content: string): Promise<Message> {
  const updated = await db
    .updateTable('messages')
    .set({ content, edited_at: new Date() })
    .where('id', '=', row.id)
    .where('deleted_at', 'is', null)
    .returning(['content', 'edited_at'])
    .executeTakeFirst();
  if (!updated) throw new ChatError('CONFLICT', 'message was deleted');
  const [message] = await toMessages(asReadonly(db), [{ ...row, content: updated.content, edited_at: updated.edited_at }]);
  return message!;
}

/**
 * Turns the message into a tombstone: it keeps its seq (history stays gapless) but loses its content and
 * reactions. False when it already was one.
 */
export function deleteMessage(db: Kysely<DB>, id: string, deletedAt: Date): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const res = await trx.updateTable('messages').set({ deleted_at: deletedAt, content: '' }).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    await trx.deleteFrom('reactions').where('message_id', '=', id).execute();
    return res.numUpdatedRows > 0n;
  });
}

/** Adds or removes one user's reaction; the message's reactions after a change, undefined when nothing changed. */
export async function setReaction(
  db: Kysely<DB>,
  r: { messageId: string; userId: string; emoji: string; add: boolean },
): Promise<ReactionSummary[] | undefined> {
  let changed: boolean;
  if (r.add) {
    // Inserted only while the user has fewer than LIMITS.reactionsPerUserPerMessage on the message. Not
    // inserted while under the cap means the row exists (made meanwhile by a concurrent add of the same
    // reaction: the insert met it on the unique key): nothing to change, as for a reaction already there.
    const { rows } = await sql<{ inserted: boolean; had: boolean; mine: string | number }>`
      with mine as (select emoji from reactions where message_id = ${r.messageId} and user_id = ${r.userId}),
      ins as (
        insert into reactions (message_id, user_id, emoji)
        select ${r.messageId}, ${r.userId}, ${r.emoji}
        where (select count(*) from mine) < ${LIMITS.reactionsPerUserPerMessage}
        on conflict do nothing
        returning 1
      )
      select exists (select 1 from ins) as inserted,
             exists (select 1 from mine where emoji = ${r.emoji}) as had,
             (select count(*) from mine) as mine`.execute(db);
    const { inserted, had, mine } = rows[0]!;
    if (!inserted && !had && Number(mine) >= LIMITS.reactionsPerUserPerMessage) {
      throw new ChatError('CONFLICT', `at most ${LIMITS.reactionsPerUserPerMessage} reactions per message`);
    }
    changed = inserted;
  } else {
    const res = await db.deleteFrom('reactions').where('message_id', '=', r.messageId).where('user_id', '=', r.userId).where('emoji', '=', r.emoji).executeTakeFirst();
    changed = res.numDeletedRows > 0n;
  }
  if (!changed) return undefined;
  return (await reactionsOf(asReadonly(db), [r.messageId])).get(r.messageId) ?? [];
}
