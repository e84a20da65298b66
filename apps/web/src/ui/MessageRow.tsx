import type { Message } from '@chat/protocol';
import { memo, useCallback, useState, type MouseEvent, type ReactNode } from 'react';
import { errorMessage } from '../chat/error-message';
import { mentions } from '../chat/format';
import { deliveryLabel, type Delivery } from '../chat/message-status';
import type { PendingMessage } from '../chat/pending-cache';
import { QUICK_REACTIONS } from '../chat/reactions';
import { Attachments } from './Attachments';
import { MessageText } from './MessageText';
import { UserPicture, useMemberAvatar } from './UserPicture';
import { useEscape } from './use-escape';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export interface MessageActions {
  reply: (m: Message) => void;
  edit: (m: Message) => void;
  remove: (m: Message) => void;
  react: (m: Message, emoji: string, add: boolean) => void;
  retry: (p: PendingMessage) => void;
  discard: (p: PendingMessage) => void;
}

/**
 * ✓, ✓✓, blue ✓✓, a clock or an alert; the words are there for screen readers and as a tooltip. Only our
 * own messages carry ticks, so the colours are chosen for the indigo (or red, when failed) bubble.
 */
function Ticks({ delivery, group }: { delivery: Delivery; group: boolean }) {
  const label = deliveryLabel(delivery, group);
  const common = 'inline-flex items-center gap-1 text-[11px] leading-none';
  switch (delivery.state) {
    case 'sending':
      return (
        <span className={`${common} text-white/70`} title={label} data-status="sending">
          <svg aria-hidden viewBox="0 0 16 16" className="h-3.5 w-3.5" fill="none" stroke="currentColor" strokeWidth="1.6">
            <circle cx="8" cy="8" r="6.2" />
            <path d="M8 4.5V8l2.4 1.6" strokeLinecap="round" />
          </svg>
          <span className="sr-only">{label}</span>
        </span>
      );
    case 'failed':
      return (
        <span className={`${common} font-semibold text-white`} title={label} data-status="failed">
          <span aria-hidden className="flex h-3.5 w-3.5 items-center justify-center rounded-full bg-surface text-[10px] text-red-600">!</span>
          {label}
        </span>
      );
    case 'sent':
      return (
        <span className={`${common} text-white/70`} title={label} data-status="sent">
          <span aria-hidden>✓</span>
          <span className="sr-only">{label}</span>
        </span>
      );
    case 'delivered':
      return (
        <span className={`${common} text-white/70`} title={label} data-status="delivered">
          <span aria-hidden className="tracking-[-0.35em]">✓✓</span>
          <span className="sr-only">{label}</span>
        </span>
      );
    case 'read':
      return (
        <span className={`${common} font-semibold text-cyan-300`} title={label} data-status="read">
          <span aria-hidden className="tracking-[-0.35em]">✓✓</span>
          {group ? <span className="ml-1">{label}</span> : <span className="sr-only">{label}</span>}
        </span>
      );
  }
}

function Quote({ target, own }: { target: Message | undefined; own: boolean }) {
  return (
    <div className={`mb-1 border-l-2 pl-2 text-xs ${own ? 'border-white/50 text-white/80' : 'border-slate-300 text-slate-500'}`}>
      {target ? (
        <>
          <span className="font-semibold">{target.senderName}</span>{' '}
          <span className="line-clamp-2">{target.deleted ? 'Message deleted' : target.content}</span>
        </>
      ) : (
        <span>Reply to an earlier message</span>
      )}
    </div>
  );
}

interface StoredProps {
  message: Message;
  own: boolean;
  /** The viewer is an owner or admin of the room: others' messages may be deleted too. */
  canModerate?: boolean;
  /** The viewer's username: mentions of them stand out. */
  me?: string | undefined;
  continued: boolean;
  group: boolean;
  userId: string;
  delivery: Delivery | undefined;
  replyTarget: Message | undefined;
  actions: MessageActions;
}

export const StoredMessageRow = memo(function StoredMessageRow({ message: m, own, canModerate = false, me, continued, group, userId, delivery, replyTarget, actions }: StoredProps) {
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [picking, setPicking] = useState(false);
  // The action bar shows on hover and keyboard focus; a touch screen has neither, so a tap (or a long
  // press, which browsers turn into `contextmenu`) opens it too.
  const [menu, setMenu] = useState(false);
  const closeAll = useCallback(() => {
    setMenu(false);
    setPicking(false);
    setConfirmDelete(false);
  }, []);
  useEscape(closeAll, menu || picking || confirmDelete);
  const act = (fn: () => void) => () => {
    setMenu(false);
    fn();
  };
  const mentionsMe = !own && !m.deleted && me !== undefined && mentions(m.content, me);
  const onTap = (e: MouseEvent) => {
    if ((e.target as Element).closest('a,button') || m.deleted) return;
    if (e.type === 'contextmenu') {
      e.preventDefault();
      setMenu(true);
    } else if (window.matchMedia('(hover: none)').matches) setMenu((open) => !open);
  };
  const meta = (
    <>
      <time dateTime={m.createdAt}>{timeFormat.format(new Date(m.createdAt))}</time>
      {m.editedAt && !m.deleted && <span>(edited)</span>}
      {own && delivery && <Ticks delivery={delivery} group={group} />}
    </>
  );
  return (
    <Bubble
      own={own}
      name={continued ? undefined : own ? 'You' : m.senderName}
      avatar={own || !group ? undefined : { name: m.senderName, show: !continued, roomId: m.roomId, userId: m.senderId }}
      meta={meta}
      label={`${own ? 'You' : m.senderName}${mentionsMe ? ' (mentions you)' : ''}: ${m.deleted ? 'message deleted' : m.content}`}
      mentionsMe={mentionsMe}
      onTap={onTap}
    >
      {m.replyTo && <Quote target={replyTarget} own={own} />}
      <p className="whitespace-pre-wrap break-words" data-message-id={m.id}>
        {m.deleted ? <em className={own ? 'text-white/70' : 'text-slate-400'}>Message deleted</em> : <MessageText text={m.content} linkClassName={own ? 'text-white' : 'text-indigo-700'} me={me} />}
      </p>
      {!m.deleted && m.attachments && m.attachments.length > 0 && <Attachments files={m.attachments} own={own} />}
      {!m.deleted && (m.reactions?.length ?? 0) > 0 && (
        <div className="mt-1 flex flex-wrap gap-1">
          {m.reactions!.map((r) => {
            const mine = r.userIds.includes(userId);
            return (
              <button
                key={r.emoji}
                onClick={() => actions.react(m, r.emoji, !mine)}
                aria-pressed={mine}
                aria-label={`${r.emoji} ${r.count}${mine ? ', including you' : ''}`}
                className={`rounded-full px-1.5 py-0.5 text-xs ring-1 ${mine ? 'bg-indigo-100 text-indigo-900 ring-indigo-300' : 'bg-surface text-slate-700 ring-slate-200'}`}
              >
                {r.emoji} {r.count}
              </button>
            );
          })}
        </div>
      )}
      {!m.deleted && (
        <div
          role="toolbar"
          aria-label="Message actions"
          className={`absolute -top-3 right-2 flex gap-0.5 rounded-md bg-surface px-1 py-0.5 text-xs text-slate-600 shadow ring-1 ring-slate-200 ${menu || confirmDelete ? 'z-10 opacity-100' : 'pointer-events-none opacity-0 group-focus-within:pointer-events-auto group-focus-within:opacity-100 group-hover:pointer-events-auto group-hover:opacity-100'}`}
        >
          <ActionButton onClick={act(() => actions.reply(m))}>Reply</ActionButton>
          <ActionButton onClick={() => setPicking((p) => !p)} expanded={picking}>
            React
          </ActionButton>
          {own && <ActionButton onClick={act(() => actions.edit(m))}>Edit</ActionButton>}
          {(own || canModerate) &&
            (confirmDelete ? (
              <>
                <ActionButton onClick={act(() => actions.remove(m))} danger>
                  Delete?
                </ActionButton>
                <ActionButton onClick={() => setConfirmDelete(false)}>Keep</ActionButton>
              </>
            ) : (
              <ActionButton onClick={() => setConfirmDelete(true)}>Delete</ActionButton>
            ))}
        </div>
      )}
      {picking && (
        <div role="group" aria-label="Pick a reaction" className="mt-1 flex gap-1">
          {QUICK_REACTIONS.map((emoji) => (
            <button
              key={emoji}
              onClick={() => {
                setPicking(false);
                actions.react(m, emoji, !(m.reactions?.find((r) => r.emoji === emoji)?.userIds.includes(userId) ?? false));
              }}
              className="rounded bg-surface px-1 text-base ring-1 ring-slate-200 hover:bg-slate-100"
              aria-label={`React with ${emoji}`}
            >
              {emoji}
            </button>
          ))}
        </div>
      )}
    </Bubble>
  );
});

export const PendingMessageRow = memo(function PendingMessageRow(props: {
  pending: PendingMessage;
  continued: boolean;
  offline: boolean;
  replyTarget: Message | undefined;
  actions: MessageActions;
}) {
  const { pending: p, actions } = props;
  const failed = p.status === 'failed';
  const meta = failed ? (
    <span className="flex flex-wrap items-center gap-1.5">
      <Ticks delivery={{ state: 'failed', readBy: 0, others: 0 }} group={false} />
      {p.error && <span className="text-white/90">{errorMessage(p.error)}</span>}
      <button onClick={() => actions.retry(p)} className="rounded bg-surface px-1.5 font-semibold text-red-700">
        Retry
      </button>
      <button onClick={() => actions.discard(p)} className="underline">
        Discard
      </button>
    </span>
  ) : (
    <>
      <span>{props.offline ? 'waiting for connection' : 'sending'}</span>
      <Ticks delivery={{ state: 'sending', readBy: 0, others: 0 }} group={false} />
    </>
  );
  return (
    <Bubble own name={props.continued ? undefined : 'You'} meta={meta} dim={!failed} failed={failed} label={`You: ${p.content}`}>
      {p.replyTo && <Quote target={props.replyTarget} own />}
      <p className="whitespace-pre-wrap break-words" data-message-id={p.id}>
        <MessageText text={p.content} linkClassName="text-white" />
      </p>
      {p.attachments && p.attachments.length > 0 && (
        <ul className="mt-1 text-xs text-white/80">
          {p.attachments.map((a) => (
            <li key={a.id}>📎 {a.name}</li>
          ))}
        </ul>
      )}
    </Bubble>
  );
});

function ActionButton(props: { onClick: () => void; children: ReactNode; danger?: boolean; expanded?: boolean }) {
  return (
    <button
      onClick={props.onClick}
      aria-expanded={props.expanded}
      className={`rounded px-1.5 py-0.5 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-400 ${props.danger ? 'font-semibold text-red-600' : ''}`}
    >
      {props.children}
    </button>
  );
}

function Avatar({ name, show, roomId, userId }: { name: string; show: boolean; roomId: string; userId: string }) {
  const avatarUrl = useMemberAvatar(roomId, userId);
  // Continued messages keep the column, so bubbles of one sender line up under the first one's avatar.
  if (!show) return <span aria-hidden className="mr-2 w-7 shrink-0" />;
  return (
    <span className="mr-2 mt-0.5 self-start">
      <UserPicture name={name} avatarUrl={avatarUrl} />
    </span>
  );
}

function Bubble(props: {
  own: boolean;
  name: string | undefined;
  avatar?: { name: string; show: boolean; roomId: string; userId: string } | undefined;
  meta: ReactNode;
  dim?: boolean;
  failed?: boolean;
  label: string;
  mentionsMe?: boolean;
  onTap?: (e: MouseEvent) => void;
  children: ReactNode;
}) {
  const colors = props.failed
    ? 'bg-red-500 text-white'
    : props.own
      ? 'bg-indigo-600 text-white'
      : props.mentionsMe
        ? 'bg-amber-50 ring-2 ring-amber-300'
        : 'bg-surface ring-1 ring-slate-200';
  return (
    <div className={`flex px-4 ${props.own ? 'justify-end' : 'justify-start'} ${props.name ? 'pt-2' : 'pt-0.5'}`}>
      {props.avatar && <Avatar {...props.avatar} />}
      <article aria-label={props.label} onClick={props.onTap} onContextMenu={props.onTap} className={`group relative max-w-[85%] rounded-2xl px-3 py-1.5 shadow-sm sm:max-w-[70%] ${colors} ${props.dim ? 'opacity-70' : ''}`}>
        {props.name && <div className={`mb-0.5 text-xs font-semibold ${props.own ? 'text-white/80' : 'text-slate-600'}`}>{props.name}</div>}
        {props.children}
        <div className={`mt-0.5 flex items-center justify-end gap-1.5 text-[11px] ${props.own ? 'text-white/80' : 'text-slate-400'}`}>{props.meta}</div>
      </article>
    </div>
  );
}
