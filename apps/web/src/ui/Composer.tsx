import { LIMITS, type Message } from '@chat/protocol';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { insertMention, mentionAt, mentionCandidates } from '../chat/mention-complete';
import { membersQuery } from '../chat/queries';
import { useNow } from './live-hooks';
import { useLive } from './live-session-context';

export type ComposerMode = { kind: 'reply'; message: Message } | { kind: 'edit'; message: Message } | undefined;

const codePoints = (s: string) => [...s].length;
const untilFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/**
 * Enter sends, Shift+Enter starts a new line, Escape leaves reply/edit mode, ArrowUp in an empty box edits
 * your last message. The text is kept per room (and across reloads) until it is sent.
 */
export function Composer(props: { roomId: string; mode: ComposerMode; setMode: (m: ComposerMode) => void; lastOwn: Message | undefined; timedOutUntil?: string | undefined }) {
  const { roomId, mode, setMode } = props;
  const live = useLive();
  // A moderator's timeout: shown at once (member:updated), lifted when it ends without a reload.
  const now = useNow(props.timedOutUntil !== undefined, 1000);
  const silencedUntil = props.timedOutUntil !== undefined && Date.parse(props.timedOutUntil) > now ? new Date(props.timedOutUntil) : undefined;
  const send = useMutation(live.sendOptions);
  const edit = useMutation(live.editOptions);
  const [text, setText] = useState(() => live.drafts.get(roomId));
  const box = useRef<HTMLTextAreaElement>(null);
  const editing = mode?.kind === 'edit';
  const length = codePoints(text);
  const tooLong = length > LIMITS.contentMaxCodePoints;
  const canSend = /\S/u.test(text) && !tooLong;

  // Entering edit mode puts the message's text in the box; leaving it restores the room's draft.
  useEffect(() => {
    if (mode?.kind === 'edit') setText(mode.message.content);
    else setText(live.drafts.get(roomId));
    box.current?.focus();
  }, [mode, live, roomId]);

  // @mentions: the members matching what is typed after "@", chosen with the arrows and Enter or Tab.
  const members = useQuery(membersQuery(live.api, roomId));
  const [caret, setCaret] = useState(0);
  const [pick, setPick] = useState(0);
  const [dismissed, setDismissed] = useState<number>();
  const typing = mentionAt(text, caret);
  const candidates = typing && typing.start !== dismissed ? mentionCandidates(members.data ?? [], typing.prefix, live.userId) : [];
  const choosing = candidates.length > 0;
  const trackCaret = () => setCaret(box.current?.selectionStart ?? 0);

  function choose(username: string) {
    if (!typing) return;
    const next = insertMention(text, caret, typing.start, username);
    update(next.text);
    setCaret(next.caret);
    setPick(0);
    requestAnimationFrame(() => box.current?.setSelectionRange(next.caret, next.caret));
  }

  function update(value: string) {
    setText(value);
    if (!editing) {
      live.drafts.set(roomId, value);
      if (value) live.typed(roomId);
    }
  }

  function submit(e?: FormEvent) {
    e?.preventDefault();
    if (!canSend) return;
    if (editing) {
      if (text !== mode.message.content) edit.mutate({ roomId, id: mode.message.id, content: text });
      setMode(undefined);
      return;
    }
    send.mutate(live.newDraft(roomId, text, mode?.kind === 'reply' ? mode.message.id : undefined));
    live.drafts.set(roomId, '');
    setText('');
    if (mode) setMode(undefined);
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (choosing && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
      e.preventDefault();
      setPick((p) => (p + (e.key === 'ArrowDown' ? 1 : candidates.length - 1)) % candidates.length);
      return;
    }
    if (choosing && (e.key === 'Enter' || e.key === 'Tab') && !e.nativeEvent.isComposing) {
      e.preventDefault();
      choose(candidates[Math.min(pick, candidates.length - 1)]!.username);
      return;
    }
    if (choosing && e.key === 'Escape') {
      e.preventDefault();
      setDismissed(typing?.start);
      return;
    }
    // isComposing: Enter that confirms an IME candidate must not send.
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape' && mode) {
      e.preventDefault();
      setMode(undefined);
    } else if (e.key === 'ArrowUp' && text === '' && !mode && props.lastOwn) {
      e.preventDefault();
      setMode({ kind: 'edit', message: props.lastOwn });
    }
  }

  if (silencedUntil) {
    return (
      <p role="status" className="border-t border-slate-200 bg-amber-50 px-4 py-3 text-sm text-amber-900">
        A moderator has timed you out in this room until {untilFormat.format(silencedUntil)}. You can read, but not write, until then.
      </p>
    );
  }

  return (
    <form onSubmit={submit} className="border-t border-slate-200 bg-surface px-3 pb-3 pt-2">
      {mode && (
        <div className="mb-2 flex items-center gap-2 rounded-md bg-slate-100 px-3 py-1.5 text-xs text-slate-600">
          <span className="min-w-0 flex-1 truncate">
            {mode.kind === 'reply' ? (
              <>
                Replying to <strong>{mode.message.senderName}</strong>: {mode.message.content}
              </>
            ) : (
              'Editing your message — Enter saves, Escape cancels'
            )}
          </span>
          <button type="button" onClick={() => setMode(undefined)} aria-label={mode.kind === 'reply' ? 'Cancel reply' : 'Cancel edit'} className="px-1 text-base leading-none">
            ×
          </button>
        </div>
      )}
      <div className="relative flex items-end gap-2">
        {choosing && (
          <ul role="listbox" aria-label="Mention someone" className="absolute bottom-full left-0 z-20 mb-1 w-64 overflow-hidden rounded-md bg-surface text-sm shadow-lg ring-1 ring-slate-200">
            {candidates.map((m, i) => (
              <li
                key={m.userId}
                role="option"
                aria-selected={i === Math.min(pick, candidates.length - 1)}
                onMouseDown={(e) => {
                  // Keep the focus in the box.
                  e.preventDefault();
                  choose(m.username);
                }}
                className={`flex cursor-pointer items-baseline gap-2 px-3 py-1.5 ${i === Math.min(pick, candidates.length - 1) ? 'bg-indigo-50' : ''}`}
              >
                <span className="font-medium">{m.displayName}</span>
                <span className="text-xs text-slate-500">@{m.username}</span>
              </li>
            ))}
          </ul>
        )}
        <textarea
          ref={box}
          value={text}
          rows={Math.min(6, text.split('\n').length)}
          onChange={(e) => {
            update(e.target.value);
            setCaret(e.target.selectionStart);
            setPick(0);
          }}
          onKeyDown={onKeyDown}
          onKeyUp={(e) => ['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key) && trackCaret()}
          onClick={trackCaret}
          aria-autocomplete="list"
          aria-expanded={choosing}
          placeholder="Write a message…"
          aria-label={editing ? 'Edit message' : 'Message'}
          aria-describedby={tooLong ? `too-long-${roomId}` : undefined}
          aria-invalid={tooLong}
          className="min-h-[42px] flex-1 resize-none rounded-lg border border-slate-300 px-3 py-2 outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-100"
        />
        <button type="submit" disabled={!canSend} className="h-[42px] rounded-lg bg-indigo-600 px-4 font-medium text-white hover:bg-indigo-500 disabled:opacity-40">
          {editing ? 'Save' : 'Send'}
        </button>
      </div>
      {tooLong && (
        <p id={`too-long-${roomId}`} className="mt-1 text-xs text-red-700">
          Too long: {length} of {LIMITS.contentMaxCodePoints} characters.
        </p>
      )}
    </form>
  );
}
