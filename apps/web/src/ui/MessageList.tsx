import type { OutboxItem } from '@chat/client';
import type { Message } from '@chat/protocol';
import { useInfiniteQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { errorMessage } from '../chat/error-message';
import { messagesOf } from '../chat/history-cache';
import { historyQuery } from '../chat/queries';
import { useOutboxItems } from './live-hooks';
import { useLive } from './live-session-context';

export function MessageList({ roomId }: { roomId: string }) {
  const live = useLive();
  const history = useInfiniteQuery(historyQuery(live.api, roomId, live.recent));
  const messages = messagesOf(history.data);
  const shown = new Set(messages.map((m) => m.id));
  // An item leaves the outbox as its stored copy enters the history; hide it as soon as both exist.
  const pending = useOutboxItems(roomId).filter((i) => !shown.has(i.id));

  return (
    // column-reverse keeps the view anchored at the newest message, also when older pages are prepended.
    <div className="flex min-h-0 flex-1 flex-col-reverse overflow-y-auto bg-slate-50 px-4 py-3">
      <div className="space-y-2">
        {history.hasNextPage && (
          <div className="text-center">
            <button
              onClick={() => void history.fetchNextPage()}
              disabled={history.isFetchingNextPage}
              className="rounded-full bg-white px-3 py-1 text-xs text-slate-600 ring-1 ring-slate-200 hover:bg-slate-100 disabled:opacity-50"
            >
              {history.isFetchingNextPage ? 'Loading…' : 'Load older messages'}
            </button>
          </div>
        )}
        {history.isPending && <p className="text-center text-sm text-slate-500">Loading messages…</p>}
        {history.isError && <p className="text-center text-sm text-red-700">{errorMessage(history.error)}</p>}
        {history.isSuccess && messages.length === 0 && pending.length === 0 && (
          <p className="text-center text-sm text-slate-500">No messages yet. Say hello!</p>
        )}
        {messages.map((m) => (
          <MessageRow key={m.id} message={m} own={m.senderId === live.userId} />
        ))}
        {pending.map((item) => (
          <PendingRow key={item.id} item={item} />
        ))}
      </div>
    </div>
  );
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

function MessageRow({ message, own }: { message: Message; own: boolean }) {
  return (
    <Bubble own={own} name={own ? 'You' : message.senderName} meta={timeFormat.format(new Date(message.createdAt))}>
      {message.deleted ? <em className="text-slate-400">Message deleted</em> : message.content}
    </Bubble>
  );
}

function PendingRow({ item }: { item: OutboxItem }) {
  const live = useLive();
  const failed = item.state === 'failed';
  const meta = failed ? (
    <span className="text-red-600">
      failed{item.error ? `: ${item.error.message}` : ''} ·{' '}
      <button onClick={() => live.retry(item.id)} className="font-medium underline">
        Retry
      </button>{' '}
      ·{' '}
      <button onClick={() => live.discard(item.id)} className="underline">
        Discard
      </button>
    </span>
  ) : (
    'sending…'
  );
  return (
    <Bubble own name="You" meta={meta} dim={!failed}>
      {item.content}
    </Bubble>
  );
}

function Bubble(props: { own: boolean; name: string; meta: ReactNode; dim?: boolean; children: ReactNode }) {
  return (
    <div className={`flex ${props.own ? 'justify-end' : 'justify-start'}`}>
      <div
        className={`max-w-[80%] rounded-2xl px-3 py-2 shadow-sm ${props.own ? 'bg-indigo-600 text-white' : 'bg-white ring-1 ring-slate-200'} ${props.dim ? 'opacity-60' : ''}`}
      >
        <div className={`mb-0.5 flex items-baseline gap-2 text-xs ${props.own ? 'text-indigo-100' : 'text-slate-500'}`}>
          <span className="font-semibold">{props.name}</span>
          <span>{props.meta}</span>
        </div>
        <p className="whitespace-pre-wrap break-words">{props.children}</p>
      </div>
    </div>
  );
}
