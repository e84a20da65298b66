import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useCallback, useMemo, useRef } from 'react';
import { errorMessage } from '../chat/error-message';
import { messagesOf } from '../chat/history-cache';
import { buildRows } from '../chat/message-rows';
import { deliveryOf } from '../chat/message-status';
import { historyQuery, membersQuery, pendingQuery, receiptsQuery } from '../chat/queries';
import { withImpliedReads, withMemberCursors } from '../chat/receipts-cache';
import { useConnectionStatus } from './live-hooks';
import { useLive } from './live-session-context';
import { PendingMessageRow, StoredMessageRow, type MessageActions } from './MessageRow';
import { useWindowedList } from './use-windowed-list';

// A typical one-line message with its padding; rows are measured once rendered.
const ESTIMATED_ROW_PX = 60;
const isMessageKey = (key: string) => !key.startsWith('day:');

/**
 * The room's history, windowed: only rows near the viewport are in the DOM, so a room with 10,000 loaded
 * messages scrolls like one with 50. Older pages load as the user scrolls up (or presses the button), and
 * the view stays on what they were reading while a page is prepended above it.
 */
export function MessageList({ roomId, group, actions }: { roomId: string; group: boolean; actions: MessageActions }) {
  const live = useLive();
  const history = useInfiniteQuery(historyQuery(live.api, roomId, live.recent));
  const pending = useQuery(pendingQuery(roomId)).data;
  const receivedReceipts = useQuery(receiptsQuery(roomId)).data;
  const members = useQuery(membersQuery(live.api, roomId));
  const offline = useConnectionStatus().state !== 'connected';

  const messages = useMemo(() => messagesOf(history.data), [history.data]);
  const receipts = useMemo(
    () => withMemberCursors(withImpliedReads(receivedReceipts, messages, live.userId), members.data ?? [], live.userId),
    [receivedReceipts, messages, members.data, live.userId],
  );
  const byId = useMemo(() => new Map(messages.map((m) => [m.id, m])), [messages]);
  const rows = useMemo(() => buildRows(messages, pending, live.userId), [messages, pending, live.userId]);
  const keys = useMemo(() => rows.map((r) => r.key), [rows]);
  const myRole = members.data?.find((m) => m.userId === live.userId)?.role;
  // Owners and admins of a group room may delete anyone's message (the server checks it again).
  const canModerate = group && (myRole === 'owner' || myRole === 'admin');
  const otherIds = useMemo(() => (members.data ?? []).filter((m) => m.userId !== live.userId).map((m) => m.userId), [members.data, live.userId]);

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = history;
  const loadOlder = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const win = useWindowedList({ scrollRef, listRef, keys, estimate: ESTIMATED_ROW_PX, onNearTop: loadOlder, anchorable: isMessageKey });
  const replyTarget = (m: { replyTo?: string }) => (m.replyTo ? byId.get(m.replyTo) : undefined);

  return (
    <div className="relative flex min-h-0 flex-1 flex-col">
      <div
        ref={scrollRef}
        onScroll={win.onScroll}
        role="log"
        aria-label="Messages"
        tabIndex={0}
        // The browser's own scroll anchoring would fight ours (it moves scrollTop when rows above change).
        style={{ overflowAnchor: 'none' }}
        className="min-h-0 flex-1 overflow-y-auto bg-slate-50 pb-3 focus:outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-indigo-300"
        data-testid="message-log"
      >
        <div className="py-2 text-center">
          {hasNextPage ? (
            <button
              onClick={loadOlder}
              disabled={isFetchingNextPage}
              className="rounded-full bg-surface px-3 py-1 text-xs text-slate-600 ring-1 ring-slate-200 hover:bg-slate-100 disabled:opacity-50"
            >
              {isFetchingNextPage ? 'Loading older messages…' : 'Load older messages'}
            </button>
          ) : (
            history.isSuccess && messages.length > 0 && <p className="text-xs text-slate-400">This is the beginning of the conversation.</p>
          )}
          {history.isPending && <p className="text-sm text-slate-500">Loading messages…</p>}
          {history.isError && <p className="text-sm text-red-700">{errorMessage(history.error)}</p>}
          {history.isSuccess && rows.length === 0 && <p className="pt-8 text-sm text-slate-500">No messages yet. Say hello!</p>}
        </div>
        <div ref={listRef}>
          <div style={{ height: win.before }} aria-hidden />
          {rows.slice(win.start, win.end).map((row) => (
            <div key={row.key} ref={win.measure(row.key)} data-row={row.kind}>
              {row.kind === 'day' ? (
                <div className="flex items-center gap-3 px-4 pb-1 pt-4 text-xs font-medium text-slate-500" role="separator">
                  <span className="h-px flex-1 bg-slate-200" />
                  {row.label}
                  <span className="h-px flex-1 bg-slate-200" />
                </div>
              ) : row.kind === 'message' ? (
                <StoredMessageRow
                  message={row.message}
                  own={row.own}
                  canModerate={canModerate}
                  me={live.username}
                  continued={row.continued}
                  group={group}
                  userId={live.userId}
                  delivery={row.own && !row.message.deleted ? deliveryOf(row.message.seq, receipts, otherIds) : undefined}
                  replyTarget={replyTarget(row.message)}
                  actions={actions}
                />
              ) : (
                <PendingMessageRow pending={row.pending} continued={row.continued} offline={offline} replyTarget={replyTarget(row.pending)} actions={actions} />
              )}
            </div>
          ))}
          <div style={{ height: win.after }} aria-hidden />
        </div>
      </div>
      {!win.atBottom && (
        <button
          onClick={win.scrollToBottom}
          className="absolute bottom-3 right-4 rounded-full bg-indigo-600 px-3 py-1.5 text-xs font-medium text-white shadow-lg hover:bg-indigo-500"
        >
          Jump to latest ↓
        </button>
      )}
    </div>
  );
}
