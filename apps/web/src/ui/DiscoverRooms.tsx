import type { Room } from '@chat/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useDeferredValue, useState } from 'react';
import { errorMessage } from '../chat/error-message';
import { discoverQuery, queryKeys, roomsQuery } from '../chat/queries';
import { openRoom } from '../chat/room-route';
import { useLive } from './live-session-context';
import { ErrorAlert } from './ErrorAlert';

export function DiscoverRooms({ onJoined }: { onJoined: () => void }) {
  const live = useLive();
  const qc = useQueryClient();
  const [query, setQuery] = useState('');
  const deferred = useDeferredValue(query.trim());
  const found = useQuery(discoverQuery(live.api, deferred));
  const mine = useQuery(roomsQuery(live.api));
  const [requested, setRequested] = useState<ReadonlySet<string>>(new Set());
  const join = useMutation({
    mutationFn: (room: Room) => live.api.joinRoom(room.id),
    onSuccess: async (result, room) => {
      if ('joinRequest' in result) {
        setRequested((s) => new Set(s).add(room.id));
        return;
      }
      await qc.invalidateQueries({ queryKey: queryKeys.rooms });
      openRoom(result.room.id);
      onJoined();
    },
  });
  const joined = new Set(mine.data?.map((r) => r.id));

  return (
    <section className="mx-4 mb-3 space-y-2 rounded-lg bg-slate-50 p-3 ring-1 ring-slate-200">
      <input
        autoFocus
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        placeholder="Search public rooms"
        aria-label="Search public rooms"
        className="w-full rounded-md border border-slate-300 px-3 py-1.5 text-sm outline-none focus:border-indigo-500"
      />
      {found.isPending && <p className="text-sm text-slate-500">Searching…</p>}
      {found.isError && <p className="text-sm text-red-700">{errorMessage(found.error)}</p>}
      {found.data?.length === 0 && <p className="text-sm text-slate-500">No public rooms found.</p>}
      <ul className="max-h-60 space-y-1 overflow-y-auto">
        {found.data?.map((room) => (
          <li key={room.id} className="flex items-center justify-between gap-2 text-sm">
            <span className="truncate"># {room.name}</span>
            {joined.has(room.id) ? (
              <button onClick={() => openRoom(room.id)} className="text-xs text-slate-500 hover:underline">
                Open
              </button>
            ) : requested.has(room.id) ? (
              <span className="text-xs text-slate-500">Requested</span>
            ) : (
              <button
                onClick={() => join.mutate(room)}
                disabled={join.isPending}
                className="rounded-md bg-indigo-600 px-2 py-0.5 text-xs font-medium text-white disabled:opacity-50"
              >
                Join
              </button>
            )}
          </li>
        ))}
      </ul>
      <ErrorAlert error={join.error} className="text-sm" />
    </section>
  );
}
