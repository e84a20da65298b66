import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { roomsQuery } from '../chat/queries';
import { openRoom } from '../chat/room-route';
import { Composer } from './Composer';
import { useLive } from './live-session-context';
import { MessageList } from './MessageList';
import { TypingIndicator } from './TypingIndicator';

export function RoomView({ roomId }: { roomId: string }) {
  const live = useLive();
  const rooms = useQuery(roomsQuery(live.api));
  const room = rooms.data?.find((r) => r.id === roomId);

  useEffect(() => {
    live.setActiveRoom(roomId);
    return () => live.setActiveRoom(undefined);
  }, [live, roomId]);

  return (
    <>
      <header className="flex items-center gap-3 border-b border-slate-200 bg-white px-4 py-3">
        <button onClick={() => openRoom(undefined)} className="text-sm text-indigo-600 md:hidden" aria-label="Back to rooms">
          ← Rooms
        </button>
        <h2 className="truncate font-semibold">{room ? `# ${room.name}` : rooms.isPending ? '' : 'Room not found'}</h2>
        {room?.type === 'private' && <span className="rounded bg-slate-100 px-1 text-[10px] uppercase text-slate-500">private</span>}
      </header>
      {room || rooms.isPending ? (
        <>
          <MessageList roomId={roomId} />
          <TypingIndicator roomId={roomId} />
          <Composer roomId={roomId} />
        </>
      ) : (
        <p className="m-auto text-sm text-slate-500">You are not a member of this room.</p>
      )}
    </>
  );
}
