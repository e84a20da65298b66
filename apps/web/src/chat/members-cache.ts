import type { Member } from '@chat/protocol';
import type { QueryClient } from '@tanstack/react-query';
import { queryKeys } from './queries';

/**
 * Applies a member event (joined, updated, left) to a room's cached member list.
 *
 * An event can arrive while the list is not there yet or while a fetch of it is in flight: the fetch may
 * have been answered before the change, and writing the event into the cache now would be overwritten by
 * that older answer a moment later (a member who joined right after the room opened would never appear).
 * In those cases the list is refetched instead, cancelling the fetch in flight.
 */
export function applyMemberEvent(qc: QueryClient, roomId: string, change: (list: Member[]) => Member[]): void {
  const queryKey = queryKeys.members(roomId);
  const state = qc.getQueryState<Member[]>(queryKey);
  if (!state) return; // never asked for: fetched fresh when it is
  if (state.data === undefined || state.fetchStatus === 'fetching') {
    // Cancelled first: a first fetch still in flight would otherwise be shared by the refetch, stale answer and all.
    void qc.cancelQueries({ queryKey }).then(() => qc.invalidateQueries({ queryKey }));
    return;
  }
  qc.setQueryData<Member[]>(queryKey, (list) => (list ? change(list) : list));
}

export function withMember(list: Member[], member: Member): Member[] {
  return list.some((m) => m.userId === member.userId) ? list.map((m) => (m.userId === member.userId ? member : m)) : [...list, member];
}

export function withoutMember(list: Member[], userId: string): Member[] {
  return list.filter((m) => m.userId !== userId);
}
