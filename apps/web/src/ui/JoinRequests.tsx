import type { PendingJoinRequest } from '@chat/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { errorMessage } from '../chat/error-message';
import { joinRequestsQuery, queryKeys } from '../chat/queries';
import { useLive } from './live-session-context';
import { ErrorAlert } from './ErrorAlert';

/** Requests to join a private room, for its owner and admins: approve or decline each. */
export function JoinRequests({ roomId }: { roomId: string }) {
  const live = useLive();
  const qc = useQueryClient();
  const requests = useQuery(joinRequestsQuery(live.api, roomId));
  const decide = useMutation({
    mutationFn: async ({ request, approve }: { request: PendingJoinRequest; approve: boolean }) => {
      if (approve) await live.api.approveJoinRequest(roomId, request.userId);
      else await live.api.rejectJoinRequest(roomId, request.userId);
    },
    onSettled: () => qc.invalidateQueries({ queryKey: queryKeys.joinRequests(roomId) }),
  });
  if (!requests.data?.length && !requests.isError && !decide.isError) return null;
  return (
    <section aria-label="Requests to join" className="border-b border-slate-200 px-4 py-3 text-sm">
      <h4 className="mb-1 font-medium">Requests to join</h4>
      {requests.isError && <p className="text-red-700">{errorMessage(requests.error)}</p>}
      <ul className="space-y-1">
        {requests.data?.map((r) => (
          <li key={r.userId} className="flex items-center gap-2">
            <span className="min-w-0 flex-1 truncate">
              {r.displayName} <span className="text-xs text-slate-400">@{r.username}</span>
            </span>
            <button
              onClick={() => decide.mutate({ request: r, approve: true })}
              disabled={decide.isPending}
              aria-label={`Approve ${r.displayName}`}
              className="rounded bg-indigo-600 px-2 py-0.5 text-xs font-medium text-white disabled:opacity-50"
            >
              Approve
            </button>
            <button
              onClick={() => decide.mutate({ request: r, approve: false })}
              disabled={decide.isPending}
              aria-label={`Decline ${r.displayName}`}
              className="rounded px-2 py-0.5 text-xs text-slate-600 ring-1 ring-slate-200 disabled:opacity-50"
            >
              Decline
            </button>
          </li>
        ))}
      </ul>
      <ErrorAlert error={decide.error} className="mt-1" />
    </section>
  );
}
