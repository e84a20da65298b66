import type { DB, ReadonlyKysely } from '@chat/db';
import { ChatError, roomChannel } from '@chat/protocol';
import type { Membership } from '../../membership/membership';
import type { ChatSocket } from '../../socket/types';
import type { MessageRow } from '../../views/message-view';
import { messageById } from './message-reads';

/**
 * O(1) authorization for socket events: a socket is in a room's channel exactly when its user is a member
 * (membership/membership.ts keeps that true), so the database is read only to tell the errors apart.
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

  /** A message the socket may act on: it exists and is in one of the socket's rooms. */
  async visibleMessage(socket: ChatSocket, id: string): Promise<MessageRow> {
    const row = await messageById(this.primaryReads, id);
    if (!row || !socket.rooms.has(roomChannel(row.room_id))) throw new ChatError('NOT_FOUND', 'no such message');
    return row;
  }
}
