import { useId, useState, type FormEvent } from 'react';
import { errorMessage } from '../chat/error-message';
import { useAuth } from './auth-context';

type Mode = 'signIn' | 'signUp';

export function AuthScreen() {
  const auth = useAuth();
  const [mode, setMode] = useState<Mode>('signIn');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (mode === 'signIn') await auth.session.login({ username, password });
      else await auth.session.register({ username, password, ...(displayName.trim() ? { displayName: displayName.trim() } : {}) });
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  }

  const signUp = mode === 'signUp';
  return (
    <main className="flex min-h-dvh items-center justify-center p-4">
      <form onSubmit={submit} className="w-full max-w-sm space-y-4 rounded-xl bg-white p-6 shadow-sm ring-1 ring-slate-200">
        <div>
          <h1 className="text-2xl font-semibold">Chat</h1>
          <p className="text-sm text-slate-500">{signUp ? 'Create an account' : 'Sign in to continue'}</p>
        </div>
        <Field
          label="Username"
          value={username}
          onChange={setUsername}
          autoComplete="username"
          autoFocus
          hint={signUp ? '3–32 characters: lowercase letters, digits and _' : undefined}
        />
        {signUp && <Field label="Display name (optional)" value={displayName} onChange={setDisplayName} autoComplete="nickname" optional />}
        <Field
          label="Password"
          type="password"
          value={password}
          onChange={setPassword}
          autoComplete={signUp ? 'new-password' : 'current-password'}
          hint={signUp ? 'At least 8 characters' : undefined}
        />
        {error && (
          <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">
            {error}
          </p>
        )}
        <button disabled={busy} className="w-full rounded-md bg-indigo-600 px-3 py-2 font-medium text-white hover:bg-indigo-500 disabled:opacity-50">
          {busy ? 'Please wait…' : signUp ? 'Sign up' : 'Sign in'}
        </button>
        <button
          type="button"
          onClick={() => {
            setMode(signUp ? 'signIn' : 'signUp');
            setError(undefined);
          }}
          className="w-full text-sm text-indigo-600 hover:underline"
        >
          {signUp ? 'Already have an account? Sign in' : 'No account yet? Sign up'}
        </button>
      </form>
    </main>
  );
}

function Field(props: { label: string; value: string; onChange: (v: string) => void; type?: string; autoComplete: string; autoFocus?: boolean; hint?: string; optional?: boolean }) {
  const hintId = useId();
  return (
    <label className="block text-sm">
      <span className="mb-1 block font-medium text-slate-700">{props.label}</span>
      <input
        type={props.type ?? 'text'}
        value={props.value}
        autoComplete={props.autoComplete}
        autoFocus={props.autoFocus}
        required={!props.optional}
        aria-describedby={props.hint ? hintId : undefined}
        onChange={(e) => props.onChange(e.target.value)}
        className="w-full rounded-md border border-slate-300 px-3 py-2 outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-200"
      />
      {props.hint && (
        <span id={hintId} className="mt-1 block text-xs text-slate-500">
          {props.hint}
        </span>
      )}
    </label>
  );
}
