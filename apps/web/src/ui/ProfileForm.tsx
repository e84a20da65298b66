import { LIMITS, normaliseDisplayName } from '@chat/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { meQuery, queryKeys } from '../chat/queries';
import { useAuth } from './auth-context';
import { ErrorAlert } from './ErrorAlert';

/** The name others see; every room shows the new one at once (the server announces it). */
export function ProfileForm() {
  const auth = useAuth();
  const qc = useQueryClient();
  const me = useQuery(meQuery(auth.api));
  const [name, setName] = useState(me.data?.displayName ?? '');
  const save = useMutation({
    mutationFn: () => auth.api.updateProfile({ displayName: name }),
    onSuccess: ({ user }) => {
      qc.setQueryData(queryKeys.me, user);
      setName(user.displayName);
    },
  });
  const clean = normaliseDisplayName(name);
  const problem = clean.length === 0 ? 'Your name cannot be blank.' : clean.length > LIMITS.displayNameMax ? `At most ${LIMITS.displayNameMax} characters.` : undefined;
  const changed = clean !== me.data?.displayName;

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!problem && changed) save.mutate();
  }

  return (
    <form onSubmit={submit} aria-label="Profile" className="space-y-2">
      <label className="block">
        <span className="mb-1 block font-medium">Display name</span>
        <input
          value={name}
          onChange={(e) => setName(e.target.value)}
          aria-invalid={problem ? true : undefined}
          autoComplete="nickname"
          className="w-full rounded-md border border-slate-300 px-3 py-1.5 outline-none focus:border-indigo-500"
        />
      </label>
      {problem && <p className="text-xs text-red-700">{problem}</p>}
      <button disabled={save.isPending || !!problem || !changed} className="rounded-md bg-indigo-600 px-3 py-1 font-medium text-white disabled:opacity-50">
        Save name
      </button>
      {save.isSuccess && !changed && <p role="status" className="text-green-700">Saved: everyone now sees {save.data.user.displayName}.</p>}
      <ErrorAlert error={save.error} className="" />
    </form>
  );
}
