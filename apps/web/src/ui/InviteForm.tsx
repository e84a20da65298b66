import type { User } from '@chat/protocol';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useDeferredValue, useState } from 'react';
import { usersQuery } from '../chat/queries';
import { useLive } from './live-session-context';
import { ErrorAlert } from './ErrorAlert';

/** Bring someone into the room (private rooms too): search by username, pick, invite. Owner and admins. */
export function InviteForm({ roomId, memberIds }: { roomId: string; memberIds: ReadonlySet<string> }) {
  const live = useLive();
  const [query, setQuery] = useState('');
  const deferred = useDeferredValue(query.trim().toLowerCase());
  const found = useQuery(usersQuery(live.api, deferred));
  // The new member arrives in the list through `member:joined`, like everyone else's view of it.
  const invite = useMutation({ mutationFn: (user: User) => live.api.invite(roomId, user.id), onSuccess: () => setQuery('') });
  const candidates = (found.data ?? []).filter((u) => !memberIds.has(u.id));
  return (
    <section aria-label="Invite" className="border-b border-slate-200 px-4 py-3 text-sm">
      <input
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        placeholder="Invite someone by username"
        aria-label="Invite someone"
        className="w-full rounded-md border border-slate-300 px-2 py-1 outline-none focus:border-indigo-500"
      />
      {deferred && found.isSuccess && candidates.length === 0 && <p className="mt-1 text-slate-500">Nobody to invite by that name.</p>}
      <ul className="mt-1 max-h-40 space-y-1 overflow-y-auto">
        {deferred &&
          candidates.map((u) => (
            <li key={u.id} className="flex items-center gap-2">
              <span className="min-w-0 flex-1 truncate">
                {u.displayName} <span className="text-xs text-slate-400">@{u.username}</span>
              </span>
              <button
                onClick={() => invite.mutate(u)}
                disabled={invite.isPending}
                aria-label={`Invite ${u.displayName}`}
                className="rounded bg-indigo-600 px-2 py-0.5 text-xs font-medium text-white disabled:opacity-50"
              >
                Invite
              </button>
            </li>
          ))}
      </ul>
      <ErrorAlert error={invite.error} className="mt-1" />
    </section>
  );
}
