import { useQuery } from '@tanstack/react-query';
import { errorMessage } from '../chat/error-message';
import { membersQuery } from '../chat/queries';
import { useLive } from './live-session-context';
import { PresenceDot } from './PresenceDot';

export function MemberList({ roomId, onClose }: { roomId: string; onClose: () => void }) {
  const live = useLive();
  const members = useQuery(membersQuery(live.api, roomId));
  const sorted = [...(members.data ?? [])].sort((a, b) => Number(b.online) - Number(a.online) || a.displayName.localeCompare(b.displayName));
  const online = sorted.filter((m) => m.online).length;
  return (
    <aside
      aria-label="Members"
      className="absolute inset-0 z-20 flex flex-col bg-white md:static md:w-64 md:border-l md:border-slate-200"
      onKeyDown={(e) => e.key === 'Escape' && onClose()}
    >
      <header className="flex items-center justify-between border-b border-slate-200 px-4 py-3">
        <h3 className="font-semibold">
          Members <span className="text-sm font-normal text-slate-500">({online} online)</span>
        </h3>
        <button onClick={onClose} autoFocus className="text-sm text-indigo-600 hover:underline">
          Close
        </button>
      </header>
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
    </aside>
  );
}
