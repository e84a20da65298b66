import type { ChatSocket } from '@chat/client';
import type { ChatError, Message } from '@chat/protocol';
import { mutationOptions, type QueryClient } from '@tanstack/react-query';
import { findMessage, mapMessage, type HistoryData } from './history-cache';
import { queryKeys } from './queries';
import { toggledReactions } from './reactions';

interface Deps {
  queryClient: QueryClient;
  socket: ChatSocket;
  userId: string;
  /** Where a failure is shown (the optimistic change is rolled back first). */
  onError: (text: string, error: ChatError) => void;
}

type Snapshot = { previous: Message | undefined };

/**
 * Optimistic edits, deletes and reactions: each writes the expected result into the history cache at
 * once, keeps the previous message, and puts it back if the server refuses. The server's own broadcast
 * (`message:updated`, `reaction:updated`) then overwrites the optimistic copy with the truth.
 */
function optimistic<V extends { roomId: string; id: string }>(deps: Deps, verb: string, apply: (m: Message, v: V) => Message, run: (v: V) => Promise<unknown>) {
  const key = (roomId: string) => queryKeys.history(roomId);
  return mutationOptions<unknown, ChatError, V, Snapshot>({
    mutationKey: [verb],
    retry: false,
    networkMode: 'always',
    onMutate: async (v) => {
      await deps.queryClient.cancelQueries({ queryKey: key(v.roomId) });
      const previous = findMessage(deps.queryClient.getQueryData<HistoryData>(key(v.roomId)), v.id);
      deps.queryClient.setQueryData<HistoryData>(key(v.roomId), (d) => d && mapMessage(d, v.id, (m) => apply(m, v)));
      return { previous };
    },
    mutationFn: run,
    onError: (error, v, snapshot) => {
      const previous = snapshot?.previous;
      if (previous) deps.queryClient.setQueryData<HistoryData>(key(v.roomId), (d) => d && mapMessage(d, v.id, () => previous));
      deps.onError(`Could not ${verb} the message: ${error.message}`, error);
    },
  });
}

export interface EditVars {
  roomId: string;
  id: string;
  content: string;
}
export interface DeleteVars {
  roomId: string;
  id: string;
}
export interface ReactVars {
  roomId: string;
  id: string;
  emoji: string;
  add: boolean;
}

export const editMutationOptions = (deps: Deps) =>
  optimistic<EditVars>(
    deps,
    'edit',
    (m, v) => ({ ...m, content: v.content, editedAt: new Date().toISOString() }),
    (v) => deps.socket.edit(v.id, v.content),
  );

export const deleteMutationOptions = (deps: Deps) =>
  optimistic<DeleteVars>(
    deps,
    'delete',
    (m) => {
      const { reactions: _gone, ...rest } = m;
      return { ...rest, content: '', deleted: true };
    },
    (v) => deps.socket.delete(v.id),
  );

export const reactMutationOptions = (deps: Deps) =>
  optimistic<ReactVars>(
    deps,
    'react to',
    (m, v) => ({ ...m, reactions: toggledReactions(m.reactions, v.emoji, deps.userId, v.add) }),
    (v) => (v.add ? deps.socket.react(v.id, v.emoji) : deps.socket.unreact(v.id, v.emoji)),
  );
