import { LIMITS, normaliseDisplayName } from '@chat/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { meQuery, queryKeys } from '../chat/queries';
import { useAuth } from './auth-context';
import { ErrorAlert } from './ErrorAlert';
import { UserPicture } from './UserPicture';

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
    <div className="space-y-4">
    <PictureForm />
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
    </div>
  );
}

const PICTURE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/** The picture others see beside the name: chosen from a file, or removed. */
function PictureForm() {
  const auth = useAuth();
  const qc = useQueryClient();
  const me = useQuery(meQuery(auth.api));
  const [problem, setProblem] = useState<string>();
  const change = useMutation({
    mutationFn: (file: File | undefined) => (file ? auth.api.setAvatar({ type: file.type, data: file }) : auth.api.removeAvatar()),
    onSuccess: ({ user }) => qc.setQueryData(queryKeys.me, user),
  });

  function choose(file: File | undefined) {
    if (!file) return;
    if (!PICTURE_TYPES.includes(file.type)) return setProblem('Choose a PNG, JPEG, GIF or WebP picture.');
    if (file.size > LIMITS.avatarMaxBytes) return setProblem(`Too large: a picture can be up to ${LIMITS.avatarMaxBytes / (1024 * 1024)} MB.`);
    setProblem(undefined);
    change.mutate(file);
  }

  const name = me.data?.displayName ?? '';
  return (
    <div aria-label="Picture" role="group" className="flex items-center gap-3">
      <UserPicture name={name} avatarUrl={me.data?.avatarUrl} size="h-12 w-12" />
      <div className="space-y-1">
        <label className="block cursor-pointer font-medium text-indigo-700 underline">
          {me.data?.avatarUrl ? 'Change picture' : 'Add a picture'}
          <input type="file" accept={PICTURE_TYPES.join(',')} className="sr-only" aria-label="Choose a picture" onChange={(e) => {
            choose(e.target.files?.[0]);
            e.target.value = '';
          }} />
        </label>
        {me.data?.avatarUrl && (
          <button type="button" onClick={() => change.mutate(undefined)} disabled={change.isPending} className="text-xs text-slate-600 underline">
            Remove picture
          </button>
        )}
        {problem && <p role="alert" className="text-xs text-red-700">{problem}</p>}
        <ErrorAlert error={change.error} className="" />
      </div>
    </div>
  );
}
