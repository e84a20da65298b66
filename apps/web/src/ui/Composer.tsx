import { useState, type KeyboardEvent } from 'react';
import { useLive } from './live-session-context';

export function Composer({ roomId }: { roomId: string }) {
  const live = useLive();
  const [text, setText] = useState('');
  const canSend = /\S/u.test(text);

  function send() {
    if (!canSend) return;
    live.send(roomId, text);
    setText('');
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    // isComposing: Enter that confirms an IME candidate must not send.
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  }

  return (
    <div className="flex items-end gap-2 border-t border-slate-200 bg-white p-3">
      <textarea
        value={text}
        rows={Math.min(6, text.split('\n').length)}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value) live.typed(roomId);
        }}
        onKeyDown={onKeyDown}
        placeholder="Write a message…"
        aria-label="Message"
        className="min-h-[42px] flex-1 resize-none rounded-lg border border-slate-300 px-3 py-2 outline-none focus:border-indigo-500"
      />
      <button onClick={send} disabled={!canSend} className="h-[42px] rounded-lg bg-indigo-600 px-4 font-medium text-white disabled:opacity-40">
        Send
      </button>
    </div>
  );
}
