import type { DB, ReadonlyKysely, Transaction } from '@chat/db';
import type { AuditEntry } from '@chat/protocol';

/** What moderation writes to `audit_log`; names are `<subject>.<verb>` so a client can group them. */
export type AuditAction =
  | 'member.invite'
  | 'member.role'
  | 'member.kick'
  | 'member.ban'
  | 'member.unban'
  | 'member.timeout'
  | 'join_request.approve'
  | 'join_request.reject'
  | 'room.update';

export interface AuditRecord {
  roomId: string;
  actorId: string;
  action: AuditAction;
  /** The member acted on; none for a change to the room itself. */
  targetUserId?: string;
  details?: Record<string, unknown>;
}

/** Written inside the transaction of the change it describes: no change without its entry, and no entry without it. */
export async function recordAudit(trx: Transaction<DB>, record: AuditRecord): Promise<void> {
  await trx
    .insertInto('audit_log')
    .values({
      room_id: record.roomId,
      actor_id: record.actorId,
      action: record.action,
      target_user_id: record.targetUserId ?? null,
      details: JSON.stringify(record.details ?? {}),
    })
    .execute();
}

/** Newest first, paged by id (`before` is an exclusive id cursor). */
export async function auditPage(
  db: ReadonlyKysely<DB>,
  roomId: string,
  page: { before?: number | undefined; limit: number },
): Promise<{ entries: AuditEntry[]; hasMore: boolean }> {
  // The names as they are now (a reader wants to know who, also of people who have since left the room).
  let query = db
    .selectFrom('audit_log as a')
    .leftJoin('users as actor', 'actor.id', 'a.actor_id')
    .leftJoin('users as target', 'target.id', 'a.target_user_id')
    .select(['a.id', 'a.actor_id', 'a.action', 'a.target_user_id', 'a.details', 'a.created_at', 'actor.display_name as actor_name', 'target.display_name as target_name'])
    .where('a.room_id', '=', roomId)
    .orderBy('a.id', 'desc')
    .limit(page.limit + 1);
  if (page.before !== undefined) query = query.where('a.id', '<', page.before);
  const rows = await query.execute();
  const entries = rows.slice(0, page.limit).map((r): AuditEntry => {
    const details = typeof r.details === 'string' ? (JSON.parse(r.details) as Record<string, unknown>) : r.details;
    return {
      id: String(r.id),
      roomId,
      // Moderation always names its actor; the column is nullable only because the log has no foreign keys.
      actorId: r.actor_id ?? 'system',
      ...(r.actor_name !== null ? { actorName: r.actor_name } : {}),
      action: r.action,
      ...(r.target_user_id !== null ? { targetUserId: r.target_user_id } : {}),
      ...(r.target_name !== null ? { targetName: r.target_name } : {}),
      ...(details && Object.keys(details).length > 0 ? { details } : {}),
      createdAt: r.created_at.toISOString(),
    };
  });
  return { entries, hasMore: rows.length > page.limit };
}
