import type { Message } from '@chat/protocol';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { errorMessage } from '../chat/error-message';
import { queryKeys } from '../chat/queries';
import { openRoom } from '../chat/room-route';
import { useLive } from './live-session-context';
import type { MessageActions } from './MessageRow';
import { StoredMessageRow } from './MessageRow';

const AROUND = 25;

/**
 * A room shown around one message (opened from search, however far back): the messages just before and
 * after it, fetched by seq, the message itself scrolled to and briefly highlighted; earlier and later
 * messages on request, and a way back to the live end of the room. The live list and its cache are left
 * alone, so nothing here can leave a gap in them.
 */
export function MessageContext({ roomId, seq, group, actions }: { roomId: string; seq: number; group: boolean; actions: MessageActions }) {
  const live = useLive();
  const [extra, setExtra] = useState<{ older: Message[]; newer: Message[]; olderDone: boolean; newerDone: boolean }>({ older: [], newer: [], olderDone: false, newerDone: false });
  const around = useQuery({
    queryKey: queryKeys.context(roomId, seq),
    queryFn: async () => {
      const [before, after] = await Promise.all([live.api.history(roomId, { before: seq + 1, limit: AROUND }), live.api.history(roomId, { after: seq, limit: AROUND })]);
      return { messages: [...before.messages, ...after.messages], olderDone: !before.hasMore, newerDone: !after.hasMore };
    },
    staleTime: Infinity,
  });
  const messages = [...extra.older, ...(around.data?.messages ?? []), ...extra.newer];
  const target = useRef<HTMLDivElement>(null);
  const [flash, setFlash] = useState(true);

  useEffect(() => {
    if (!around.data) return;
    target.current?.scrollIntoView({ block: 'center' });
    const t = setTimeout(() => setFlash(false), 2500);
    return () => clearTimeout(t);
  }, [around.data]);

  async function more(direction: 'older' | 'newer') {
    if (direction === 'older') {
      const first = messages[0]?.seq ?? seq;
      const page = await live.api.history(roomId, { before: first, limit: AROUND });
      setExtra((x) => ({ ...x, older: [...page.messages, ...x.older], olderDone: !page.hasMore }));
    } else {
      const last = messages.at(-1)?.seq ?? seq;
      const page = await live.api.history(roomId, { after: last, limit: AROUND });
      setExtra((x) => ({ ...x, newer: [...x.newer, ...page.messages], newerDone: !page.hasMore }));
    }
  }

  const olderDone = extra.older.length > 0 ? extra.olderDone : (around.data?.olderDone ?? true);
  const newerDone = extra.newer.length > 0 ? extra.newerDone : (around.data?.newerDone ?? true);
  return (
    <div role="log" aria-label="Messages" className="relative min-h-0 flex-1 overflow-y-auto py-2">
      <div className="sticky top-0 z-10 flex items-center justify-between gap-2 bg-amber-50 px-4 py-1.5 text-xs text-amber-900">
        <span>Showing an earlier part of the conversation.</span>
        <button onClick={() => openRoom(roomId)} className="font-medium underline underline-offset-2">
          Jump to the latest messages
        </button>
      </div>
      {around.isPending && <p className="p-4 text-sm text-slate-500">Loading…</p>}
      {around.isError && <p className="p-4 text-sm text-red-700">{errorMessage(around.error)}</p>}
      {around.isSuccess && !olderDone && (
        <button onClick={() => void more('older')} className="mx-auto block py-2 text-xs text-indigo-600 hover:underline">
          Earlier messages
        </button>
      )}
      {messages.map((m, i) => (
        <div key={m.id} ref={m.seq === seq ? target : undefined} data-focused={m.seq === seq && flash ? 'true' : undefined} className={m.seq === seq && flash ? 'bg-amber-100 transition-colors' : 'transition-colors'}>
          <StoredMessageRow
            message={m}
            own={m.senderId === live.userId}
            me={live.username}
            continued={i > 0 && messages[i - 1]!.senderId === m.senderId}
            group={group}
            userId={live.userId}
            delivery={undefined}
            replyTarget={undefined}
            actions={actions}
          />
        </div>
      ))}
      {around.isSuccess && !newerDone && (
        <button onClick={() => void more('newer')} className="mx-auto block py-2 text-xs text-indigo-600 hover:underline">
          Later messages
        </button>
      )}
    </div>
  );
}
