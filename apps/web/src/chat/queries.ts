import type { HttpApi } from '@chat/client';
import type { HistoryResponse } from '@chat/protocol';
import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import type { RecentMessages } from './recent-messages';

export const queryKeys = {
  me: ['me'] as const,
  rooms: ['rooms'] as const,
  discover: (query: string) => ['discover', query] as const,
  members: (roomId: string) => ['members', roomId] as const,
  history: (roomId: string) => ['history', roomId] as const,
};

export const meQuery = (api: HttpApi) =>
  queryOptions({ queryKey: queryKeys.me, queryFn: async () => (await api.me()).user, staleTime: Infinity });

export const roomsQuery = (api: HttpApi) =>
  queryOptions({ queryKey: queryKeys.rooms, queryFn: async () => (await api.listRooms()).rooms });

export const discoverQuery = (api: HttpApi, query: string) =>
  queryOptions({ queryKey: queryKeys.discover(query), queryFn: async () => (await api.discoverRooms(query)).rooms });

export const membersQuery = (api: HttpApi, roomId: string) =>
  queryOptions({ queryKey: queryKeys.members(roomId), queryFn: async () => (await api.members(roomId)).members, staleTime: 60_000 });

/**
 * History pages, newest first; the page param is the exclusive `before` cursor. The socket keeps the newest
 * page current (see `LiveSession`), so it never goes stale by time. Live messages that arrived while the
 * newest page was in flight are merged in, or they would be missing until the next refetch.
 */
export const historyQuery = (api: HttpApi, roomId: string, recent: RecentMessages) =>
  infiniteQueryOptions({
    queryKey: queryKeys.history(roomId),
    initialPageParam: undefined as number | undefined,
    queryFn: async ({ pageParam }): Promise<HistoryResponse> => {
      if (pageParam !== undefined) return api.history(roomId, { before: pageParam });
      const page = await api.history(roomId);
      return { ...page, messages: recent.mergeInto(roomId, page.messages) };
    },
    getNextPageParam: (last) => (last.hasMore ? last.messages[0]?.seq : undefined),
    staleTime: Infinity,
  });
