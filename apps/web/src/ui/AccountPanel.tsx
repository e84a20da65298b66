import { LIMITS } from '@chat/protocol';
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { errorMessage } from '../chat/error-message';
import { AlertChoices } from './AlertChoices';
import { useAuth } from './auth-context';
import { ProfileForm } from './ProfileForm';

/** The account's security: a new password (other devices are signed out), and signing out everywhere. */
export function AccountPanel() {
  const auth = useAuth();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const change = useMutation({
    mutationFn: () => auth.changePassword(current, next),
    onSuccess: () => {
      setCurrent('');
      setNext('');
    },
  });
  const everywhere = useMutation({ mutationFn: () => auth.signOutEverywhere() });
  const tooShort = next.length > 0 && next.length < LIMITS.passwordMin;

  function submit(e: FormEvent) {
    e.preventDefault();
    if (current && next.length >= LIMITS.passwordMin) change.mutate();
  }

  return (
    <div className="mx-4 mb-3 space-y-3 rounded-lg bg-slate-50 p-3 text-sm ring-1 ring-slate-200">
      <ProfileForm />
      <AlertChoices />
      <form onSubmit={submit} className="space-y-2">
        <input
          type="password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          aria-label="Current password"
          placeholder="Current password"
          autoComplete="current-password"
          className="w-full rounded-md border border-slate-300 px-3 py-1.5 outline-none focus:border-indigo-500"
        />
        <input
          type="password"
          value={next}
          onChange={(e) => setNext(e.target.value)}
          aria-label="New password"
          placeholder={`New password (at least ${LIMITS.passwordMin} characters)`}
          autoComplete="new-password"
          className="w-full rounded-md border border-slate-300 px-3 py-1.5 outline-none focus:border-indigo-500"
        />
        {tooShort && <p className="text-xs text-slate-500">At least {LIMITS.passwordMin} characters.</p>}
        <button disabled={change.isPending || !current || next.length < LIMITS.passwordMin} className="rounded-md bg-indigo-600 px-3 py-1 font-medium text-white disabled:opacity-50">
          Change password
        </button>
        {change.isSuccess && <p role="status" className="text-green-700">Password changed. Your other devices were signed out.</p>}
        {change.isError && <p role="alert" className="text-red-700">{errorMessage(change.error)}</p>}
      </form>
      <button onClick={() => everywhere.mutate()} disabled={everywhere.isPending} className="text-red-700 underline disabled:opacity-50">
        Sign out everywhere
      </button>
      {everywhere.isError && <p role="alert" className="text-red-700">{errorMessage(everywhere.error)}</p>}
    </div>
  );
}
