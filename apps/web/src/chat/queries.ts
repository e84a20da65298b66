import type { HttpApi } from '@chat/client';
import { LIMITS, type HistoryResponse } from '@chat/protocol';
import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import type { PendingMessage } from './pending-cache';
import type { RecentMessages } from './recent-messages';
import type { RoomReceipts } from './receipts-cache';

export const queryKeys = {
  me: ['me'] as const,
  rooms: ['rooms'] as const,
  discover: (query: string) => ['discover', query] as const,
  users: (query: string) => ['users', query] as const,
  search: (query: string) => ['search', query] as const,
  /** A file's short-lived link (PROTOCOL.md "Files"). */
  fileLink: (fileId: string) => ['file-link', fileId] as const,
  members: (roomId: string) => ['members', roomId] as const,
  allMembers: ['members'] as const,
  history: (roomId: string) => ['history', roomId] as const,
  joinRequests: (roomId: string) => ['joinRequests', roomId] as const,
  bans: (roomId: string) => ['bans', roomId] as const,
  auditLog: (roomId: string) => ['auditLog', roomId] as const,
  /** Messages around one message (a search result opened in its room), not kept current by the socket. */
  context: (roomId: string, seq: number) => ['context', roomId, seq] as const,
  /** Optimistic rows of messages not yet acknowledged (written by the send mutation). */
  pending: (roomId: string) => ['pending', roomId] as const,
  /** Other members' delivered/read cursors, from `receipt` events. */
  receipts: (roomId: string) => ['receipts', roomId] as const,
  /** Unread mentions of this user per room, counted from live messages (client-only). */
  mentions: ['mentions'] as const,
};

// Older history pages: the protocol's maximum, so scrolling back through a long room needs few requests.
const OLDER_PAGE_SIZE = 100;

export const meQuery = (api: HttpApi) =>
  queryOptions({ queryKey: queryKeys.me, queryFn: async () => (await api.me()).user, staleTime: Infinity });

export const roomsQuery = (api: HttpApi) =>
  queryOptions({ queryKey: queryKeys.rooms, queryFn: async () => (await api.listRooms()).rooms });

export const discoverQuery = (api: HttpApi, query: string) =>
  queryOptions({ queryKey: queryKeys.discover(query), queryFn: async () => (await api.discoverRooms(query)).rooms });

export const usersQuery = (api: HttpApi, query: string) =>
  queryOptions({ queryKey: queryKeys.users(query), queryFn: async () => (await api.searchUsers(query)).users, enabled: query.length > 0 });

/** Members with their online flag; kept current by `presence` and `member:*` events. */
export const membersQuery = (api: HttpApi, roomId: string) =>
  queryOptions({ queryKey: queryKeys.members(roomId), queryFn: async () => (await api.members(roomId)).members, staleTime: Infinity });

/** Pending requests to join a room (its owner and admins only). */
export const joinRequestsQuery = (api: HttpApi, roomId: string) =>
  queryOptions({ queryKey: queryKeys.joinRequests(roomId), queryFn: async () => (await api.joinRequests(roomId)).joinRequests });

export const bansQuery = (api: HttpApi, roomId: string) =>
  queryOptions({ queryKey: queryKeys.bans(roomId), queryFn: async () => (await api.bans(roomId)).bans });

/** The room's audit log, newest first; the page param is the exclusive `before` entry id. */
export const auditLogQuery = (api: HttpApi, roomId: string) =>
  infiniteQueryOptions({
    queryKey: queryKeys.auditLog(roomId),
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam }) => api.auditLog(roomId, pageParam === undefined ? {} : { before: pageParam }),
    getNextPageParam: (last) => (last.hasMore ? Number(last.entries.at(-1)?.id) : undefined),
  });

/** Client-only cache entries: never fetched, written by mutations and socket events. */
export const pendingQuery = (roomId: string) =>
  queryOptions({
    queryKey: queryKeys.pending(roomId),
    queryFn: () => [] as PendingMessage[],
    initialData: [] as PendingMessage[],
    staleTime: Infinity,
    gcTime: Infinity,
  });

export const mentionsQuery = () =>
  queryOptions({
    queryKey: queryKeys.mentions,
    queryFn: () => ({}) as Record<string, number>,
    initialData: {} as Record<string, number>,
    staleTime: Infinity,
    gcTime: Infinity,
  });

export const receiptsQuery = (roomId: string) =>
  queryOptions({
    queryKey: queryKeys.receipts(roomId),
    queryFn: () => ({}) as RoomReceipts,
    initialData: {} as RoomReceipts,
    staleTime: Infinity,
    gcTime: Infinity,
  });

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
      if (pageParam !== undefined) return api.history(roomId, { before: pageParam, limit: OLDER_PAGE_SIZE });
      const page = await api.history(roomId);
      return { ...page, messages: recent.mergeInto(roomId, page.messages) };
    },
    getNextPageParam: (last) => (last.hasMore ? last.messages[0]?.seq : undefined),
    staleTime: Infinity,
  });

/** A file's link, asked for again a minute before it expires (the bytes it led to stay in the browser's cache). */
export const fileLinkQuery = (api: HttpApi, fileId: string) =>
  queryOptions({ queryKey: queryKeys.fileLink(fileId), queryFn: () => api.fileLink(fileId), staleTime: (LIMITS.fileLinkSeconds - 60) * 1000, retry: 1 });
