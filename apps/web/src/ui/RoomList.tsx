import type { RoomSummary } from '@chat/protocol';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../chat/error-message';
import { membersQuery, mentionsQuery, roomsQuery } from '../chat/queries';
import { otherMember, roomTitle } from '../chat/room-display';
import { sortedRooms } from '../chat/room-list-cache';
import { openRoom } from '../chat/room-route';
import { useLive } from './live-session-context';
import { PresenceDot } from './PresenceDot';

export function RoomList({ activeRoomId }: { activeRoomId: string | undefined }) {
  const live = useLive();
  const rooms = useQuery({ ...roomsQuery(live.api), select: sortedRooms });

  if (rooms.isPending) return <p className="px-4 text-sm text-slate-500">Loading rooms…</p>;
  if (rooms.isError) return <p className="px-4 text-sm text-red-700">{errorMessage(rooms.error)}</p>;
  if (rooms.data.length === 0) return <p className="px-4 text-sm text-slate-500">No rooms yet. Create one, browse public rooms, or message someone.</p>;
  return (
    <nav aria-label="Rooms" className="min-h-0 flex-1 overflow-y-auto">
      <ul>
        {rooms.data.map((room) => (
          <RoomItem key={room.id} room={room} active={room.id === activeRoomId} />
        ))}
      </ul>
    </nav>
  );
}

function RoomItem({ room, active }: { room: RoomSummary; active: boolean }) {
  const live = useLive();
  const direct = room.type === 'direct';
  // Direct rooms show the other person and their presence; the member list of two is one small request.
  const members = useQuery({ ...membersQuery(live.api, room.id), enabled: direct });
  const other = direct ? otherMember(members.data, live.userId) : undefined;
  const mentionCount = useQuery({ ...mentionsQuery(), select: (counts) => counts[room.id] ?? 0 }).data ?? 0;
  const title = roomTitle(room, members.data, live.userId, live.username);
  const last = room.lastMessage;
  const preview = last ? (last.deleted ? 'Message deleted' : `${last.senderId === live.userId ? 'You' : last.senderName}: ${last.content}`) : 'No messages yet';
  return (
    <li>
      <button
        onClick={() => openRoom(room.id)}
        aria-current={active ? 'page' : undefined}
        className={`flex w-full items-center gap-3 px-4 py-2.5 text-left focus:outline-none focus-visible:bg-indigo-50 focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-indigo-400 ${active ? 'bg-indigo-50' : 'hover:bg-slate-50'}`}
      >
        <span className="relative flex h-9 w-9 shrink-0 items-center justify-center rounded-full bg-slate-200 text-sm font-semibold uppercase text-slate-600">
          <span aria-hidden>{direct ? title.slice(0, 1) : '#'}</span>
          {direct && other && <PresenceDot online={other.online} className="absolute -bottom-0.5 -right-0.5" />}
        </span>
        <span className="min-w-0 flex-1">
          <span className="flex items-center gap-1.5">
            <span className={`truncate ${room.unread > 0 ? 'font-semibold' : 'font-medium'}`}>{title}</span>
            {room.type === 'private' && <span className="rounded bg-slate-100 px-1 text-[10px] uppercase text-slate-500">private</span>}
          </span>
          <span className="block truncate text-sm text-slate-500">{preview}</span>
        </span>
        {mentionCount > 0 && (
          <span aria-label={`${mentionCount} ${mentionCount === 1 ? 'mention' : 'mentions'}`} className="rounded-full bg-amber-400 px-1.5 py-0.5 text-xs font-bold text-slate-900">
            @{mentionCount > 9 ? '9+' : mentionCount}
          </span>
        )}
        {room.unread > 0 && (
          <span aria-label={`${room.unread} unread`} className="rounded-full bg-indigo-600 px-2 py-0.5 text-xs font-semibold text-white">
            {room.unread > 99 ? '99+' : room.unread}
          </span>
        )}
      </button>
    </li>
  );
}
