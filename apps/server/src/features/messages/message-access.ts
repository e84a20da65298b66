import type { DB, ReadonlyKysely } from '@chat/db';
import { ChatError, roomChannel, type Role } from '@chat/protocol';
import type { Membership } from '../../membership/membership';
import type { ChatSocket } from '../../socket/types';
import type { MessageRow } from '../../views/message-view';
import { messageById } from './message-reads';

/**
 * Authorization for socket events. Reads (and the first check of every event) are O(1): a socket is in a
 * room's channel when its user is a member (membership/membership.ts keeps that true through the cluster
 * bus), so the database is read only to tell the errors apart. Writes do not trust the channel alone: a
 * send's batch statement checks the member row (migration 0007), and edits, deletes and reactions read it
 * here, so a membership broadcast that was lost never leaves a way to write.
 */
export class MessageAccess {
  constructor(
    private readonly membership: Membership,
    private readonly primaryReads: ReadonlyKysely<DB>,
  ) {}

  /** The room's access error (NOT_FOUND or FORBIDDEN) unless the socket's user is a member. */
  async requireRoom(socket: ChatSocket, roomId: string): Promise<void> {
    if (!socket.rooms.has(roomChannel(roomId))) throw await this.membership.accessError(roomId);
  }

  /**
   * A message the socket may change (edit, delete, react), with the user's role in its room: it exists, is
   * in one of the socket's rooms, and the user is a member now. The member row is read, not trusted from
   * the socket's channels: a kick or ban whose broadcast was lost must not leave a way to write. A stale
   * channel is left on the way out.
   */
  async writableMessage(socket: ChatSocket, id: string): Promise<{ row: MessageRow; role: Role }> {
    const row = await messageById(this.primaryReads, id);
    const channel = row && roomChannel(row.room_id);
    if (!row || !channel || !socket.rooms.has(channel)) throw new ChatError('NOT_FOUND', 'no such message');
    const role = await this.membership.currentRole(socket.data.userId, row.room_id);
    if (role === undefined) {
      void socket.leave(channel);
      throw new ChatError('NOT_FOUND', 'no such message');
    }
    return { row, role };
  }
}
