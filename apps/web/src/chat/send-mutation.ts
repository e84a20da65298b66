import type { Outbox } from '@chat/client';
import { ChatError, type Attachment, type Message } from '@chat/protocol';
import { mutationOptions, type QueryClient } from '@tanstack/react-query';
import { withPending, withPendingFailed, withoutPending, type PendingMessage } from './pending-cache';
import { queryKeys } from './queries';

/** A message to send; the id is chosen once (at the first attempt) and kept across retries and reloads. */
export interface SendDraft {
  id: string;
  roomId: string;
  content: string;
  replyTo?: string;
  /** Files already uploaded for this message id. */
  attachments?: Attachment[];
  createdAt: string;
}

export interface SendDeps {
  queryClient: QueryClient;
  outbox: Outbox;
  /** Puts the stored message where the room's history shows it. */
  onSent: (message: Message) => void;
}

/**
 * Optimistic sends as a TanStack mutation over the SDK's outbox:
 * - `onMutate` writes a pending row (clock) into the cache before anything goes on the wire;
 * - the mutation resolves when the outbox has the server's acknowledgement, which may be after any number of
 *   reconnects (the outbox waits; unanswered attempts never fail a message);
 * - success hands the row over to the stored message; an error turns the row into "failed" with a retry,
 *   and never drops it.
 * `networkMode: 'always'` and `retry: false` because the outbox owns waiting and retrying.
 */
export function sendMutationOptions({ queryClient, outbox, onSent }: SendDeps) {
  const setPending = (roomId: string, fn: (list: readonly PendingMessage[]) => PendingMessage[]) =>
    queryClient.setQueryData<PendingMessage[]>(queryKeys.pending(roomId), (list) => fn(list ?? []));
  return mutationOptions<Message, ChatError, SendDraft>({
    mutationKey: ['send'],
    networkMode: 'always',
    retry: false,
    onMutate: (draft) => {
      const row: PendingMessage = { id: draft.id, roomId: draft.roomId, content: draft.content, createdAt: draft.createdAt, status: 'sending' };
      if (draft.replyTo !== undefined) row.replyTo = draft.replyTo;
      if (draft.attachments !== undefined) row.attachments = draft.attachments;
      setPending(draft.roomId, (list) => withPending(list, row));
    },
    mutationFn: (draft) => {
      const { attachments, ...rest } = draft;
      outbox.add(attachments ? { ...rest, attachments: attachments.map((a) => a.id) } : rest);
      return outbox.settled(draft.id);
    },
    onSuccess: (message, draft) => {
      onSent(message);
      setPending(draft.roomId, (list) => withoutPending(list, draft.id));
    },
    onError: (error, draft) => {
      setPending(draft.roomId, (list) => withPendingFailed(list, draft.id, error instanceof ChatError ? error.toJSON() : { code: 'INTERNAL', message: 'not sent' }));
    },
  });
}
