import { sql, type DB, type Kysely } from '@chat/db';

/** One message as the database-only rows write it. */
export interface BenchMessage {
  id: string;
  roomId: string;
  senderId: string;
  content: string;
}

/**
 * The naive baseline, deliberately not the node's write path: one autocommit statement per message. The
 * seq still has to come from the room row (gapless per room), so the UPDATE ... RETURNING and the INSERT
 * share the statement's implicit transaction through a CTE: one round trip and one commit (one WAL flush)
 * per message, no idempotency check, no cursor update. The other rows run the node's own writer
 * (`@chat/server/write-path`).
 */
export async function insertBare(db: Kysely<DB>, m: BenchMessage): Promise<void> {
  await sql`
    with s as (update rooms set last_seq = last_seq + 1 where id = ${m.roomId} returning last_seq)
    insert into messages (id, room_id, seq, sender_id, content)
    select ${m.id}::uuid, ${m.roomId}, s.last_seq, ${m.senderId}, ${m.content} from s`.execute(db);
}
