import type { Member, RoomSummary } from '@chat/protocol';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { errorMessage } from '../chat/error-message';
import { lastSeenText } from '../chat/last-seen';
import { isTimedOut, outranks } from '../chat/moderation';
import { membersQuery } from '../chat/queries';
import { openRoom } from '../chat/room-route';
import { AuditLog } from './AuditLog';
import { BanList } from './BanList';
import { InviteForm } from './InviteForm';
import { JoinRequests } from './JoinRequests';
import { useLastSeen, useNow } from './live-hooks';
import { useLive } from './live-session-context';
import { MemberActions } from './MemberActions';
import { UserPicture } from './UserPicture';
import { PresenceDot } from './PresenceDot';
import { useEscape } from './use-escape';
import { ErrorAlert } from './ErrorAlert';

const untilFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

type Extra = 'none' | 'bans' | 'audit';

export function MemberList({ room, onClose }: { room: RoomSummary; onClose: () => void }) {
  const live = useLive();
  const roomId = room.id;
  const members = useQuery(membersQuery(live.api, roomId));
  const [managing, setManaging] = useState<string>();
  const [extra, setExtra] = useState<Extra>('none');
  useEscape(onClose);
  // The role as the member list has it (kept current by member:updated), else as the room list had it.
  const myRole = members.data?.find((m) => m.userId === live.userId)?.role ?? room.role;
  const manages = room.type !== 'direct' && (myRole === 'owner' || myRole === 'admin');
  const now = useNow(members.data?.some((m) => m.timedOutUntil !== undefined) ?? false, 10_000);
  const sorted = [...(members.data ?? [])].sort((a, b) => Number(b.online) - Number(a.online) || a.displayName.localeCompare(b.displayName));
  const online = sorted.filter((m) => m.online).length;
  const seenOf = useLastSeen(sorted.filter((m) => !m.online).map((m) => m.userId));
  const minuteNow = useNow(true, 60_000);
  const canManage = (m: Member) => manages && m.userId !== live.userId && (myRole === 'owner' || outranks(myRole, m.role));
  return (
    <aside aria-label="Members" className="absolute inset-0 z-20 flex flex-col bg-surface md:static md:w-72 md:border-l md:border-slate-200">
      <header className="flex items-center justify-between border-b border-slate-200 px-4 py-3">
        <h3 className="font-semibold">
          Members <span className="text-sm font-normal text-slate-500">({online} online)</span>
        </h3>
        <button onClick={onClose} autoFocus className="text-sm text-indigo-600 hover:underline">
          Close
        </button>
      </header>
      <div className="min-h-0 flex-1 overflow-y-auto">
        {manages && <JoinRequests roomId={roomId} />}
        {manages && <InviteForm roomId={roomId} memberIds={new Set(members.data?.map((m) => m.userId))} />}
        {members.isPending && <p className="p-4 text-sm text-slate-500">Loading…</p>}
        {members.isError && <p className="p-4 text-sm text-red-700">{errorMessage(members.error)}</p>}
        <ul className="py-2">
          {sorted.map((m) => (
            <li key={m.userId} className="text-sm">
              <div className="flex items-center gap-2 px-4 py-1.5">
                <PresenceDot online={m.online} />
                <UserPicture name={m.displayName} avatarUrl={m.avatarUrl} />
                <span className="min-w-0 flex-1 truncate">
                  {m.displayName}
                  {m.userId === live.userId && <span className="text-slate-400"> (you)</span>}
                  <span className="block truncate text-xs text-slate-400">
                    @{m.username}
                    {!m.online && seenOf(m.userId) && <span> · {lastSeenText(seenOf(m.userId)!, minuteNow)}</span>}
                  </span>
                  {isTimedOut(m, now) && <span className="block text-xs text-amber-700">timed out until {untilFormat.format(new Date(m.timedOutUntil!))}</span>}
                </span>
                {m.role !== 'member' && <span className="rounded bg-slate-100 px-1.5 text-[10px] uppercase text-slate-500">{m.role}</span>}
                {canManage(m) && (
                  <button
                    onClick={() => setManaging((cur) => (cur === m.userId ? undefined : m.userId))}
                    aria-expanded={managing === m.userId}
                    aria-label={`Manage ${m.displayName}`}
                    className="rounded px-1.5 text-slate-500 hover:bg-slate-100"
                  >
                    ⋯
                  </button>
                )}
              </div>
              {managing === m.userId && <MemberActions roomId={roomId} member={m} myRole={myRole} onDone={() => setManaging(undefined)} />}
            </li>
          ))}
        </ul>
        {manages && (
          <div className="flex gap-3 border-t border-slate-200 px-4 py-2 text-sm">
            <button onClick={() => setExtra((x) => (x === 'bans' ? 'none' : 'bans'))} aria-expanded={extra === 'bans'} className="text-indigo-600 hover:underline">
              Ban list
            </button>
            <button onClick={() => setExtra((x) => (x === 'audit' ? 'none' : 'audit'))} aria-expanded={extra === 'audit'} className="text-indigo-600 hover:underline">
              Audit log
            </button>
          </div>
        )}
        {manages && extra === 'bans' && <BanList roomId={roomId} />}
        {manages && extra === 'audit' && <AuditLog roomId={roomId} />}
      </div>
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
      <ErrorAlert error={leave.error} className="mt-1" />
    </footer>
  );
}
