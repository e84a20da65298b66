import { useQuery } from '@tanstack/react-query';
import { useDeferredValue, useState } from 'react';
import { errorMessage } from '../chat/error-message';
import { highlightParts } from '../chat/highlight';
import { queryKeys, roomsQuery } from '../chat/queries';
import { openRoom } from '../chat/room-route';
import { useLive } from './live-session-context';

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/**
 * Search messages in every room, or in the open one: results with the matched words marked, the sender and
 * the time; choosing one opens its room around that message.
 */
export function SearchPanel({ activeRoomId, onDone }: { activeRoomId: string | undefined; onDone: () => void }) {
  const live = useLive();
  const [query, setQuery] = useState('');
  const [here, setHere] = useState(activeRoomId !== undefined);
  const q = useDeferredValue(query.trim());
  const roomId = here ? activeRoomId : undefined;
  const rooms = useQuery(roomsQuery(live.api));
  const found = useQuery({
    queryKey: [...queryKeys.search(q), roomId ?? ''],
    queryFn: async () => (await live.api.search(q, roomId)).results,
    enabled: q.length > 0,
  });
  const roomName = (id: string) => rooms.data?.find((r) => r.id === id)?.name ?? 'a room';

  return (
    <section aria-label="Search" className="mx-4 mb-3 space-y-2 rounded-lg bg-slate-50 p-3 ring-1 ring-slate-200">
      <input
        autoFocus
        value={query}
        maxLength={200}
        onChange={(e) => setQuery(e.target.value)}
        placeholder="Search messages"
        aria-label="Search messages"
        className="w-full rounded-md border border-slate-300 px-3 py-1.5 text-sm outline-none focus:border-indigo-500"
      />
      {activeRoomId !== undefined && (
        <label className="flex items-center gap-2 text-xs text-slate-600">
          <input type="checkbox" checked={here} onChange={(e) => setHere(e.target.checked)} />
          Only in {roomName(activeRoomId)}
        </label>
      )}
      {q && found.isPending && <p className="text-sm text-slate-500">Searching…</p>}
      {found.isError && <p className="text-sm text-red-700">{errorMessage(found.error)}</p>}
      {q && found.isSuccess && found.data.length === 0 && <p className="text-sm text-slate-500">No messages found.</p>}
      <ul aria-label="Search results" className="max-h-80 space-y-1 overflow-y-auto">
        {found.data?.map(({ message: m, highlight }) => (
          <li key={m.id}>
            <button
              onClick={() => {
                openRoom(m.roomId, m.seq);
                onDone();
              }}
              className="w-full rounded-md px-2 py-1.5 text-left text-sm hover:bg-surface"
            >
              <span className="flex items-baseline gap-2 text-xs text-slate-500">
                <span className="font-semibold text-slate-700">{m.senderName}</span>
                <span className="truncate"># {roomName(m.roomId)}</span>
                <time dateTime={m.createdAt} className="ml-auto shrink-0">
                  {when.format(new Date(m.createdAt))}
                </time>
              </span>
              <span className="line-clamp-2 break-words">
                {highlightParts(highlight).map((p, i) =>
                  p.hit ? (
                    <mark key={i} className="rounded bg-amber-200 px-0.5 text-slate-900">
                      {p.text}
                    </mark>
                  ) : (
                    <span key={i}>{p.text}</span>
                  ),
                )}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
