import type { RoomSummary } from '@chat/protocol';
import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../chat/error-message';
import { roomsQuery } from '../chat/queries';
import { sortedRooms } from '../chat/room-list-cache';
import { openRoom } from '../chat/room-route';
import { useLive } from './live-session-context';

export function RoomList({ activeRoomId }: { activeRoomId: string | undefined }) {
  const live = useLive();
  const rooms = useQuery({ ...roomsQuery(live.api), select: sortedRooms });

  if (rooms.isPending) return <p className="px-4 text-sm text-slate-500">Loading rooms…</p>;
  if (rooms.isError) return <p className="px-4 text-sm text-red-700">{errorMessage(rooms.error)}</p>;
  if (rooms.data.length === 0) return <p className="px-4 text-sm text-slate-500">No rooms yet. Create one or browse public rooms.</p>;
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
  const last = room.lastMessage;
  return (
    <li>
      <button
        onClick={() => openRoom(room.id)}
        className={`flex w-full items-center gap-3 px-4 py-2.5 text-left ${active ? 'bg-indigo-50' : 'hover:bg-slate-50'}`}
      >
        <div className="min-w-0 flex-1">
          <div className="flex items-center gap-1.5">
            <span className={`truncate ${room.unread > 0 ? 'font-semibold' : 'font-medium'}`}>{room.name}</span>
            {room.type === 'private' && <span className="rounded bg-slate-100 px-1 text-[10px] uppercase text-slate-500">private</span>}
          </div>
          <p className="truncate text-sm text-slate-500">
            {last ? (last.deleted ? 'Message deleted' : `${last.senderName}: ${last.content}`) : 'No messages yet'}
          </p>
        </div>
        {room.unread > 0 && (
          <span aria-label={`${room.unread} unread`} className="rounded-full bg-indigo-600 px-2 py-0.5 text-xs font-semibold text-white">
            {room.unread > 99 ? '99+' : room.unread}
          </span>
        )}
      </button>
    </li>
  );
}
