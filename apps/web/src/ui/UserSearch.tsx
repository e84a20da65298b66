import type { User } from '@chat/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useDeferredValue, useState } from 'react';
import { errorMessage } from '../chat/error-message';
import { queryKeys, usersQuery } from '../chat/queries';
import { openRoom } from '../chat/room-route';
import { useLive } from './live-session-context';
import { ErrorAlert } from './ErrorAlert';

/** Start (or reopen) a direct conversation: search users by username prefix, pick one. */
export function UserSearch({ onDone }: { onDone: () => void }) {
  const live = useLive();
  const qc = useQueryClient();
  const [query, setQuery] = useState('');
  const deferred = useDeferredValue(query.trim().toLowerCase());
  const found = useQuery(usersQuery(live.api, deferred));
  const open = useMutation({
    mutationFn: (user: User) => live.api.directRoom(user.id),
    onSuccess: async ({ room }) => {
      await qc.invalidateQueries({ queryKey: queryKeys.rooms });
      openRoom(room.id);
      onDone();
    },
  });
  const users = (found.data ?? []).filter((u) => u.id !== live.userId);

  return (
    <section className="mx-4 mb-3 space-y-2 rounded-lg bg-slate-50 p-3 ring-1 ring-slate-200">
      <input
        autoFocus
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        placeholder="Search people by username"
        aria-label="Search people"
        className="w-full rounded-md border border-slate-300 px-3 py-1.5 text-sm outline-none focus:border-indigo-500"
      />
      {deferred && found.isPending && <p className="text-sm text-slate-500">Searching…</p>}
      {found.isError && <p className="text-sm text-red-700">{errorMessage(found.error)}</p>}
      {deferred && found.isSuccess && users.length === 0 && <p className="text-sm text-slate-500">Nobody found.</p>}
      <ul className="max-h-60 space-y-1 overflow-y-auto">
        {users.map((u) => (
          <li key={u.id}>
            <button
              onClick={() => open.mutate(u)}
              disabled={open.isPending}
              className="flex w-full items-baseline gap-2 rounded-md px-2 py-1 text-left text-sm hover:bg-surface disabled:opacity-50"
            >
              <span className="font-medium">{u.displayName}</span>
              <span className="text-xs text-slate-500">@{u.username}</span>
            </button>
          </li>
        ))}
      </ul>
      <ErrorAlert error={open.error} className="text-sm" />
    </section>
  );
}
