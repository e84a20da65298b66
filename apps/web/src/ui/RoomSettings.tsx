import { LIMITS, type RoomSummary } from '@chat/protocol';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { queryKeys } from '../chat/queries';
import { withRoomUpdate } from '../chat/room-list-cache';
import { ErrorAlert } from './ErrorAlert';
import { useLive } from './live-session-context';
import { useEscape } from './use-escape';

/** The room's name and topic, for its owner and admins; every member sees the change at once (`room:updated`). */
export function RoomSettings({ room, onClose }: { room: RoomSummary; onClose: () => void }) {
  const live = useLive();
  const qc = useQueryClient();
  const [name, setName] = useState(room.name);
  const [topic, setTopic] = useState(room.topic ?? '');
  useEscape(onClose);
  const save = useMutation({
    mutationFn: () => live.api.updateRoom(room.id, { name, topic }),
    onSuccess: ({ room: updated }) => {
      qc.setQueryData<RoomSummary[]>(queryKeys.rooms, (rooms) => rooms && withRoomUpdate(rooms, updated));
      onClose();
    },
  });
  const problem =
    name.trim() === ''
      ? 'The room needs a name.'
      : name.length > LIMITS.roomNameMax
        ? `A name has at most ${LIMITS.roomNameMax} characters.`
        : topic.length > LIMITS.roomTopicMax
          ? `A topic has at most ${LIMITS.roomTopicMax} characters.`
          : undefined;
  const changed = name !== room.name || topic !== (room.topic ?? '');

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!problem && changed) save.mutate();
  }

  return (
    <form onSubmit={submit} aria-label="Room settings" className="space-y-2 border-b border-slate-200 bg-surface px-4 py-3 text-sm">
      <label className="block">
        <span className="mb-1 block font-medium">Room name</span>
        <input value={name} onChange={(e) => setName(e.target.value)} aria-invalid={name.trim() === '' || name.length > LIMITS.roomNameMax} className="w-full rounded-md border border-slate-300 px-3 py-1.5 outline-none focus:border-indigo-500" />
      </label>
      <label className="block">
        <span className="mb-1 block font-medium">Topic</span>
        <textarea
          value={topic}
          onChange={(e) => setTopic(e.target.value)}
          rows={2}
          placeholder="What this room is for (optional)"
          aria-invalid={topic.length > LIMITS.roomTopicMax}
          className="w-full resize-none rounded-md border border-slate-300 px-3 py-1.5 outline-none focus:border-indigo-500"
        />
      </label>
      {problem && <p className="text-xs text-red-700">{problem}</p>}
      <div className="flex gap-2">
        <button disabled={save.isPending || !!problem || !changed} className="rounded-md bg-indigo-600 px-3 py-1 font-medium text-white disabled:opacity-50">
          Save
        </button>
        <button type="button" onClick={onClose} className="rounded-md px-3 py-1 ring-1 ring-slate-300">
          Cancel
        </button>
      </div>
      <ErrorAlert error={save.error} className="" />
    </form>
  );
}
