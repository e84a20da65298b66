import type { RoomType } from '@chat/protocol';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { errorMessage } from '../chat/error-message';
import { queryKeys } from '../chat/queries';
import { openRoom } from '../chat/room-route';
import { useLive } from './live-session-context';

export function NewRoomForm({ onDone }: { onDone: () => void }) {
  const live = useLive();
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [type, setType] = useState<Exclude<RoomType, 'direct'>>('public');
  const create = useMutation({
    mutationFn: () => live.api.createRoom({ name: name.trim(), type }),
    onSuccess: async ({ room }) => {
      await qc.invalidateQueries({ queryKey: queryKeys.rooms });
      openRoom(room.id);
      onDone();
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    if (name.trim()) create.mutate();
  }

  return (
    <form onSubmit={submit} className="mx-4 mb-3 space-y-2 rounded-lg bg-slate-50 p-3 ring-1 ring-slate-200">
      <input
        autoFocus
        value={name}
        onChange={(e) => setName(e.target.value)}
        placeholder="Room name"
        aria-label="Room name"
        className="w-full rounded-md border border-slate-300 px-3 py-1.5 text-sm outline-none focus:border-indigo-500"
      />
      <div className="flex items-center gap-4 text-sm">
        {(['public', 'private'] as const).map((t) => (
          <label key={t} className="flex items-center gap-1.5">
            <input type="radio" name="room-type" checked={type === t} onChange={() => setType(t)} />
            {t === 'public' ? 'Public' : 'Private'}
          </label>
        ))}
        <button disabled={create.isPending || !name.trim()} className="ml-auto rounded-md bg-indigo-600 px-3 py-1 font-medium text-white disabled:opacity-50">
          Create
        </button>
      </div>
      {create.isError && <p role="alert" className="text-sm text-red-700">{errorMessage(create.error)}</p>}
    </form>
  );
}
