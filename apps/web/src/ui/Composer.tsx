import { LIMITS, type Attachment, type Message } from '@chat/protocol';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState, type ClipboardEvent, type DragEvent, type FormEvent, type KeyboardEvent } from 'react';
import { fileProblem } from '../chat/file-upload';
import { insertMention, mentionAt, mentionCandidates } from '../chat/mention-complete';
import { membersQuery } from '../chat/queries';
import { formatSize } from './Attachments';
import { useNow } from './live-hooks';
import { useLive } from './live-session-context';

export type ComposerMode = { kind: 'reply'; message: Message } | { kind: 'edit'; message: Message } | undefined;

/** A file on its way into the next message: uploading (with progress), uploaded, or refused. */
interface ComposerFile {
  key: string;
  file: File;
  state: 'uploading' | 'done' | 'failed';
  progress: number;
  attachment?: Attachment;
  error?: string;
  /** False for what the client refuses before uploading (too large, wrong type): retrying cannot help. */
  retryable: boolean;
  abort?: () => void;
}

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
  // Files go up as soon as they are chosen, for the id the next message will have (PROTOCOL.md "Files").
  const [messageId, setMessageId] = useState(() => crypto.randomUUID());
  const [files, setFiles] = useState<ComposerFile[]>([]);
  const [dragging, setDragging] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const uploaded = files.flatMap((f) => (f.attachment ? [f.attachment] : []));
  const filesBusy = files.some((f) => f.state !== 'done');
  const canSend = !tooLong && !filesBusy && (/\S/u.test(text) || uploaded.length > 0) && !(editing && !/\S/u.test(text));

  const patchFile = (key: string, patch: Partial<ComposerFile>) => setFiles((list) => list.map((f) => (f.key === key ? { ...f, ...patch } : f)));

  function startUpload(entry: ComposerFile) {
    const upload = live.upload(roomId, messageId, entry.file, (progress) => patchFile(entry.key, { progress }));
    patchFile(entry.key, { state: 'uploading', progress: 0, abort: upload.abort });
    upload.done.then(
      (attachment) => patchFile(entry.key, { state: 'done', progress: 1, attachment }),
      (err: unknown) => patchFile(entry.key, { state: 'failed', error: err instanceof Error ? err.message : 'upload failed' }),
    );
  }

  function addFiles(list: Iterable<File>) {
    if (editing) return;
    const added: ComposerFile[] = [];
    for (const file of list) {
      if (files.length + added.length >= LIMITS.attachmentsPerMessage) break;
      const problem = fileProblem(file);
      added.push({ key: crypto.randomUUID(), file, state: problem ? 'failed' : 'uploading', progress: 0, retryable: !problem, ...(problem ? { error: problem } : {}) });
    }
    setFiles((current) => [...current, ...added]);
    for (const entry of added) if (entry.state === 'uploading') startUpload(entry);
  }

  function removeFile(entry: ComposerFile) {
    entry.abort?.();
    setFiles((list) => list.filter((f) => f.key !== entry.key));
  }

  function onPaste(e: ClipboardEvent<HTMLTextAreaElement>) {
    if (e.clipboardData.files.length === 0) return;
    e.preventDefault();
    addFiles(e.clipboardData.files);
  }

  function onDrop(e: DragEvent<HTMLFormElement>) {
    setDragging(false);
    if (e.dataTransfer.files.length === 0) return;
    e.preventDefault();
    addFiles(e.dataTransfer.files);
  }

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
    // A message of files alone carries their names as its text (content is never empty; search finds them).
    const content = /\S/u.test(text) ? text : uploaded.map((a) => a.name).join(', ');
    send.mutate(live.newDraft(roomId, content, mode?.kind === 'reply' ? mode.message.id : undefined, uploaded.length > 0 ? { id: messageId, attachments: uploaded } : undefined));
    if (uploaded.length > 0) {
      setFiles([]);
      setMessageId(crypto.randomUUID());
    }
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
    <form
      onSubmit={submit}
      onDragOver={(e) => {
        if (editing || !e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      className={`border-t border-slate-200 bg-surface px-3 pb-3 pt-2 ${dragging ? 'ring-2 ring-inset ring-indigo-400' : ''}`}
    >
      {files.length > 0 && (
        <ul aria-label="Files to send" className="mb-2 flex flex-wrap gap-2">
          {files.map((f) => (
            <li key={f.key} className={`flex items-center gap-2 rounded-md px-2 py-1 text-xs ring-1 ${f.state === 'failed' ? 'bg-red-50 text-red-800 ring-red-200' : 'bg-slate-100 text-slate-700 ring-slate-200'}`}>
              <span className="max-w-[12rem] truncate font-medium">{f.file.name}</span>
              <span>{formatSize(f.file.size)}</span>
              {f.state === 'uploading' && <progress aria-label={`Uploading ${f.file.name}`} max={1} value={f.progress} className="h-1.5 w-16" />}
              {f.state === 'done' && <span aria-label={`${f.file.name} uploaded`}>✓</span>}
              {f.state === 'failed' && <span role="alert">{f.error}</span>}
              {f.state === 'failed' && f.retryable && (
                <button type="button" onClick={() => startUpload(f)} className="underline">
                  Retry
                </button>
              )}
              <button type="button" onClick={() => removeFile(f)} aria-label={`${f.state === 'uploading' ? 'Cancel' : 'Remove'} ${f.file.name}`} className="px-1 text-base leading-none">
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
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
          onPaste={onPaste}
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
        {!editing && (
          <>
            <input
              ref={picker}
              type="file"
              multiple
              hidden
              aria-label="Choose files"
              onChange={(e) => {
                addFiles(e.target.files ?? []);
                e.target.value = '';
              }}
            />
            <button
              type="button"
              onClick={() => picker.current?.click()}
              disabled={files.length >= LIMITS.attachmentsPerMessage}
              aria-label="Attach files"
              title="Attach files (or drop or paste them here)"
              className="h-[42px] rounded-lg px-2 text-lg text-slate-600 ring-1 ring-slate-300 hover:bg-slate-100 disabled:opacity-40"
            >
              📎
            </button>
          </>
        )}
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
