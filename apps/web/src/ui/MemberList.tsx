import type { RoomSummary } from '@chat/protocol';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { errorMessage } from '../chat/error-message';
import { membersQuery } from '../chat/queries';
import { openRoom } from '../chat/room-route';
import { InviteForm } from './InviteForm';
import { JoinRequests } from './JoinRequests';
import { useLive } from './live-session-context';
import { PresenceDot } from './PresenceDot';
import { useEscape } from './use-escape';

export function MemberList({ room, onClose }: { room: RoomSummary; onClose: () => void }) {
  const live = useLive();
  const roomId = room.id;
  const members = useQuery(membersQuery(live.api, roomId));
  useEscape(onClose);
  const manages = room.type !== 'direct' && (room.role === 'owner' || room.role === 'admin');
  const sorted = [...(members.data ?? [])].sort((a, b) => Number(b.online) - Number(a.online) || a.displayName.localeCompare(b.displayName));
  const online = sorted.filter((m) => m.online).length;
  return (
    <aside
      aria-label="Members"
      className="absolute inset-0 z-20 flex flex-col bg-white md:static md:w-64 md:border-l md:border-slate-200"
    >
      <header className="flex items-center justify-between border-b border-slate-200 px-4 py-3">
        <h3 className="font-semibold">
          Members <span className="text-sm font-normal text-slate-500">({online} online)</span>
        </h3>
        <button onClick={onClose} autoFocus className="text-sm text-indigo-600 hover:underline">
          Close
        </button>
      </header>
      {manages && <JoinRequests roomId={roomId} />}
      {manages && <InviteForm roomId={roomId} memberIds={new Set(members.data?.map((m) => m.userId))} />}
      {members.isPending && <p className="p-4 text-sm text-slate-500">Loading…</p>}
      {members.isError && <p className="p-4 text-sm text-red-700">{errorMessage(members.error)}</p>}
      <ul className="min-h-0 flex-1 overflow-y-auto py-2">
        {sorted.map((m) => (
          <li key={m.userId} className="flex items-center gap-2 px-4 py-1.5 text-sm">
            <PresenceDot online={m.online} />
            <span className="min-w-0 flex-1 truncate">
              {m.displayName}
              {m.userId === live.userId && <span className="text-slate-400"> (you)</span>}
              <span className="block truncate text-xs text-slate-400">@{m.username}</span>
            </span>
            {m.role !== 'member' && <span className="rounded bg-slate-100 px-1.5 text-[10px] uppercase text-slate-500">{m.role}</span>}
          </li>
        ))}
      </ul>
      {room.type !== 'direct' && <LeaveRoom roomId={roomId} />}
    </aside>
  );
}

function LeaveRoom({ roomId }: { roomId: string }) {
  const live = useLive();
  const [confirming, setConfirming] = useState(false);
  // The room leaves the list through `room:left`, on this tab and the user's others.
  const leave = useMutation({ mutationFn: () => live.api.leaveRoom(roomId), onSuccess: () => openRoom(undefined) });
  return (
    <footer className="border-t border-slate-200 px-4 py-3 text-sm">
      {confirming ? (
        <div className="flex items-center gap-2">
          <span className="flex-1">Leave this room?</span>
          <button onClick={() => leave.mutate()} disabled={leave.isPending} className="rounded bg-red-600 px-2 py-0.5 font-medium text-white disabled:opacity-50">
            Leave
          </button>
          <button onClick={() => setConfirming(false)} className="rounded px-2 py-0.5 ring-1 ring-slate-200">
            Stay
          </button>
        </div>
      ) : (
        <button onClick={() => setConfirming(true)} className="text-red-700 hover:underline">
          Leave room
        </button>
      )}
      {leave.isError && (
        <p role="alert" className="mt-1 text-red-700">
          {errorMessage(leave.error)}
        </p>
      )}
    </footer>
  );
}
