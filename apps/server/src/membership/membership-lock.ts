import { sql, type DB, type Transaction } from '@chat/db';

/**
 * Serializes changes to one user's membership of one room across nodes (join vs ban, invite vs ban,
 * approve vs ban, kick vs role change): without it, a join that checked "not banned" could commit after a
 * concurrent ban removed the member, leaving a banned member. Held until the transaction ends; PGlite has
 * one session, so it is free there.
 */
export async function lockMembership(trx: Transaction<DB>, roomId: string, userId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`moderation:${roomId}:${userId}`}))`.execute(trx);
}
