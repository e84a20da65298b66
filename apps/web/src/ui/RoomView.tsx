import type { Message, RoomSummary } from '@chat/protocol';
import { useInfiniteQuery, useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { messagesOf } from '../chat/history-cache';
import { historyQuery, membersQuery, roomsQuery } from '../chat/queries';
import { otherMember, roomTitle } from '../chat/room-display';
import { lastSeenText } from '../chat/last-seen';
import { currentFocusSeq, openRoom, subscribeRoute } from '../chat/room-route';
import { Composer, type ComposerMode } from './Composer';
import { useLastSeen, useNow } from './live-hooks';
import { useLive } from './live-session-context';
import { MemberList } from './MemberList';
import { MessageContext } from './MessageContext';
import { MessageList } from './MessageList';
import { NotMember } from './NotMember';
import type { MessageActions } from './MessageRow';
import { PresenceDot, usePresenceWord } from './PresenceDot';
import { RoomSettings } from './RoomSettings';
import { TypingIndicator } from './TypingIndicator';
import { useEscape } from './use-escape';

export function RoomView({ roomId }: { roomId: string }) {
  const live = useLive();
  const rooms = useQuery(roomsQuery(live.api));
  const room = rooms.data?.find((r) => r.id === roomId);

  useEffect(() => {
    live.setActiveRoom(roomId);
    return () => live.setActiveRoom(undefined);
  }, [live, roomId]);

  if (!room) {
    return (
      <>
        <RoomHeader>
          <h2 className="min-w-0 flex-1 truncate font-semibold text-slate-500">{rooms.isPending ? 'Loading…' : 'Room'}</h2>
        </RoomHeader>
        {rooms.isPending ? <p className="m-auto text-sm text-slate-500">Loading…</p> : <NotMember roomId={roomId} />}
      </>
    );
  }
  return <OpenRoom room={room} />;
}

function RoomHeader({ children }: { children?: ReactNode }) {
  // Wraps at phone width: the buttons go to a second line rather than squeeze the name and topic to a letter.
  return (
    <header className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-slate-200 bg-surface px-4 py-3">
      <button onClick={() => openRoom(undefined)} className="text-sm text-indigo-600 md:hidden" aria-label="Back to rooms">
        ← Rooms
      </button>
      {children}
    </header>
  );
}

function OpenRoom({ room }: { room: RoomSummary }) {
  const live = useLive();
  const [mode, setMode] = useState<ComposerMode>();
  const [showMembers, setShowMembers] = useState(false);
  const [editing, setEditing] = useState(false);
  const canEdit = room.type !== 'direct' && (room.role === 'owner' || room.role === 'admin');
  const focusSeq = useSyncExternalStore(subscribeRoute, currentFocusSeq);
  useEscape(() => setMode(undefined), mode !== undefined);
  const members = useQuery(membersQuery(live.api, room.id));
  const history = useInfiniteQuery({ ...historyQuery(live.api, room.id, live.recent), select: messagesOf });
  const remove = useMutation(live.deleteOptions);
  const react = useMutation(live.reactOptions);
  const send = useMutation(live.sendOptions);
  const direct = room.type === 'direct';
  const other = direct ? otherMember(members.data, live.userId) : undefined;
  const title = roomTitle(room, members.data, live.userId, live.username);
  const lastOwn = useMemo(() => [...(history.data ?? [])].reverse().find((m: Message) => m.senderId === live.userId && !m.deleted), [history.data, live.userId]);

  const actions = useMemo<MessageActions>(
    () => ({
      reply: (m) => setMode({ kind: 'reply', message: m }),
      edit: (m) => setMode({ kind: 'edit', message: m }),
      remove: (m) => remove.mutate({ roomId: m.roomId, id: m.id }),
      react: (m, emoji, add) => react.mutate({ roomId: m.roomId, id: m.id, emoji, add }),
      // The same id again: the outbox puts the failed item back in its place; the server stores it once.
      retry: (p) => send.mutate({ id: p.id, roomId: p.roomId, content: p.content, createdAt: p.createdAt, ...(p.replyTo ? { replyTo: p.replyTo } : {}) }),
      discard: (p) => live.discard(p.roomId, p.id),
    }),
    // The mutation objects change identity on every state change; their `mutate` functions are stable.
    [remove.mutate, react.mutate, send.mutate, live],
  );

  return (
    <div className="relative flex min-h-0 flex-1">
      <div className="flex min-w-0 flex-1 flex-col">
        <RoomHeader>
          <div className="min-w-0 flex-1 basis-48">
            <h2 className="flex items-center gap-2 truncate font-semibold">
              {direct ? other && <PresenceDot online={other.online} /> : <span aria-hidden>#</span>}
              <span className="truncate">{title}</span>
              {room.type === 'private' && <span className="rounded bg-slate-100 px-1 text-[10px] font-normal uppercase text-slate-500">private</span>}
            </h2>
            {direct && other && <PresenceWord userId={other.userId} online={other.online} />}
            {!direct && room.topic && (
              <p className="truncate text-xs text-slate-500" title={room.topic} aria-label="Topic">
                {room.topic}
              </p>
            )}
          </div>
          {canEdit && (
            <button onClick={() => setEditing((e) => !e)} aria-expanded={editing} className="rounded-md px-2 py-1 text-sm text-slate-600 ring-1 ring-slate-200 hover:bg-slate-50">
              Edit room
            </button>
          )}
          <MuteButton roomId={room.id} />
          <button
            onClick={() => setShowMembers((s) => !s)}
            aria-expanded={showMembers}
            className="rounded-md px-2 py-1 text-sm text-slate-600 ring-1 ring-slate-200 hover:bg-slate-50"
          >
            Members{members.data ? ` (${members.data.length})` : ''}
          </button>
        </RoomHeader>
        {editing && <RoomSettings key={`settings-${room.id}`} room={room} onClose={() => setEditing(false)} />}
        {focusSeq !== undefined ? <MessageContext key={focusSeq} roomId={room.id} seq={focusSeq} group={!direct} actions={actions} /> : <MessageList roomId={room.id} group={!direct} actions={actions} />}
        <TypingIndicator roomId={room.id} />
        <Composer key={room.id} roomId={room.id} mode={mode} setMode={setMode} lastOwn={lastOwn} timedOutUntil={members.data?.find((m) => m.userId === live.userId)?.timedOutUntil} />
      </div>
      {showMembers && <MemberList room={room} onClose={() => setShowMembers(false)} />}
    </div>
  );
}

function PresenceWord({ userId, online }: { userId: string; online: boolean }) {
  const word = usePresenceWord(online);
  const seen = useLastSeen(online ? [] : [userId])(userId);
  const now = useNow(true, 60_000);
  const text = word === 'unknown' ? 'presence unknown while disconnected' : word === 'offline' && seen ? lastSeenText(seen, now) : word;
  return <p className="text-xs text-slate-500">{text}</p>;
}

function MuteButton({ roomId }: { roomId: string }) {
  const live = useLive();
  const choices = useSyncExternalStore(live.alerts.subscribe, live.alerts.current, live.alerts.current);
  const muted = choices.muted.includes(roomId);
  return (
    <button
      onClick={() => live.alerts.setMuted(roomId, !muted)}
      aria-pressed={muted}
      title={muted ? 'Muted: no notifications or sound, not counted in the tab title' : 'Mute this room'}
      className="rounded-md px-2 py-1 text-sm text-slate-600 ring-1 ring-slate-200 hover:bg-slate-50"
    >
      {muted ? 'Muted' : 'Mute'}
    </button>
  );
}
