import type { Ban } from '@chat/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { errorMessage } from '../chat/error-message';
import { bansQuery, queryKeys } from '../chat/queries';
import { useLive } from './live-session-context';
import { ErrorAlert } from './ErrorAlert';

/** The room's bans with their reasons, each with Unban (owner and admins). Unbanning does not re-add. */
export function BanList({ roomId }: { roomId: string }) {
  const live = useLive();
  const qc = useQueryClient();
  const bans = useQuery(bansQuery(live.api, roomId));
  const unban = useMutation({
    mutationFn: (ban: Ban) => live.api.unban(roomId, ban.userId),
    onSettled: () => qc.invalidateQueries({ queryKey: queryKeys.bans(roomId) }),
  });
  return (
    <section aria-label="Banned" className="border-t border-slate-200 px-4 py-3 text-sm">
      <h4 className="mb-1 font-medium">Banned</h4>
      {bans.isPending && <p className="text-slate-500">Loading…</p>}
      {bans.isError && <p className="text-red-700">{errorMessage(bans.error)}</p>}
      {bans.data?.length === 0 && <p className="text-slate-500">Nobody is banned.</p>}
      <ul className="space-y-1">
        {bans.data?.map((b) => (
          <li key={b.userId} className="flex items-center gap-2">
            <span className="min-w-0 flex-1 truncate">
              {b.displayName} <span className="text-xs text-slate-400">@{b.username}</span>
              {b.reason && <span className="block truncate text-xs text-slate-500">{b.reason}</span>}
            </span>
            <button
              onClick={() => unban.mutate(b)}
              disabled={unban.isPending}
              aria-label={`Unban ${b.displayName}`}
              className="rounded px-2 py-0.5 text-xs ring-1 ring-slate-200 disabled:opacity-50"
            >
              Unban
            </button>
          </li>
        ))}
      </ul>
      <ErrorAlert error={unban.error} className="mt-1" />
    </section>
  );
}
