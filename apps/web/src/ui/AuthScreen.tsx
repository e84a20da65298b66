import { ChatError } from '@chat/protocol';
import { useId, useState, type FormEvent } from 'react';
import { errorMessage } from '../chat/error-message';
import { signUpProblems, type SignUpProblems } from '../chat/sign-up-check';
import { useAuth } from './auth-context';

type Mode = 'signIn' | 'signUp';

export function AuthScreen() {
  const auth = useAuth();
  const [mode, setMode] = useState<Mode>('signIn');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [error, setError] = useState<string>();
  const [taken, setTaken] = useState<string>();
  // Problems are shown from the first attempt on, and follow the typing after it.
  const [checked, setChecked] = useState(false);
  const [busy, setBusy] = useState(false);
  const signUp = mode === 'signUp';
  const problems: SignUpProblems = signUp && checked ? signUpProblems({ username, password, displayName }) : {};
  if (signUp && taken !== undefined && taken === username.trim().toLowerCase()) problems.username ??= 'That username is taken. Try another.';
  const ended = auth.endedBecause();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    if (signUp) {
      setChecked(true);
      if (Object.keys(signUpProblems({ username, password, displayName })).length > 0) return;
    }
    setBusy(true);
    try {
      if (!signUp) await auth.session.login({ username, password });
      else await auth.session.register({ username, password, ...(displayName.trim() ? { displayName: displayName.trim() } : {}) });
    } catch (err) {
      if (signUp && err instanceof ChatError && err.code === 'CONFLICT') setTaken(username.trim().toLowerCase());
      else if (!signUp && err instanceof ChatError && err.code === 'UNAUTHORIZED') setError('That username and password do not match an account.');
      else setError(errorMessage(err));
      setBusy(false);
    }
  }

  return (
    <main className="flex min-h-dvh items-center justify-center p-4">
      <form onSubmit={submit} noValidate={signUp} className="w-full max-w-sm space-y-4 rounded-xl bg-surface p-6 shadow-sm ring-1 ring-slate-200">
        <div>
          <h1 className="text-2xl font-semibold">Chat</h1>
          <p className="text-sm text-slate-500">{signUp ? 'Create an account' : 'Sign in to continue'}</p>
        </div>
        {ended && !signUp && (
          <p role="status" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
            {ended}
          </p>
        )}
        <Field
          label="Username"
          value={username}
          onChange={setUsername}
          autoComplete="username"
          autoFocus
          hint={signUp ? '3–32 characters: letters a–z, digits and _' : undefined}
          problem={problems.username}
        />
        {signUp && (
          <Field label="Display name (optional)" value={displayName} onChange={setDisplayName} autoComplete="nickname" optional hint="How others see you; up to 64 characters" problem={problems.displayName} />
        )}
        <Field
          label="Password"
          type="password"
          value={password}
          onChange={setPassword}
          autoComplete={signUp ? 'new-password' : 'current-password'}
          hint={signUp ? 'At least 8 characters' : undefined}
          problem={problems.password}
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
            setChecked(false);
          }}
          className="w-full text-sm text-indigo-600 hover:underline"
        >
          {signUp ? 'Already have an account? Sign in' : 'No account yet? Sign up'}
        </button>
      </form>
    </main>
  );
}

function Field(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  type?: string;
  autoComplete: string;
  autoFocus?: boolean;
  hint?: string;
  optional?: boolean;
  problem?: string | undefined;
}) {
  const hintId = useId();
  const problemId = useId();
  const described = [props.problem ? problemId : undefined, props.hint ? hintId : undefined].filter(Boolean).join(' ');
  return (
    <label className="block text-sm">
      <span className="mb-1 block font-medium text-slate-700">{props.label}</span>
      <input
        type={props.type ?? 'text'}
        value={props.value}
        autoComplete={props.autoComplete}
        autoFocus={props.autoFocus}
        required={!props.optional}
        aria-invalid={props.problem ? true : undefined}
        aria-describedby={described || undefined}
        onChange={(e) => props.onChange(e.target.value)}
        className={`w-full rounded-md border px-3 py-2 outline-none focus:ring-2 ${props.problem ? 'border-red-400 focus:border-red-500 focus:ring-red-200' : 'border-slate-300 focus:border-indigo-500 focus:ring-indigo-200'}`}
      />
      {props.problem && (
        <span id={problemId} className="mt-1 block text-xs font-medium text-red-700">
          {props.problem}
        </span>
      )}
      {props.hint && (
        <span id={hintId} className="mt-1 block text-xs text-slate-500">
          {props.hint}
        </span>
      )}
    </label>
  );
}
