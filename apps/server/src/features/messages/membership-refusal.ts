import { ChatError, type ErrorCode } from '@chat/protocol';

/**
 * The user is not a current member of the room, by its member row, although the socket is in the room's
 * channel: the broadcast that should have taken it out was lost. Whoever catches it takes the socket out of
 * the channel (the write path's reconciliation) and answers the code.
 */
export class MembershipRefusal extends ChatError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly roomId: string,
  ) {
    super(code, message);
  }
}
