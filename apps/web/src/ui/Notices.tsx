import { useLive } from './live-session-context';
import { useNotices } from './live-hooks';

/** Failures without a row of their own (an edit or reaction the server refused), shown for a few seconds. */
export function Notices() {
  const live = useLive();
  const notices = useNotices();
  return (
    <div role="alert" className="pointer-events-none fixed inset-x-0 bottom-24 z-30 flex flex-col items-center gap-2 px-4">
      {notices.map((n) => (
        <div key={n.id} className="pointer-events-auto flex max-w-md items-center gap-3 rounded-lg bg-slate-900 px-4 py-2 text-sm text-white shadow-lg">
          <span>{n.text}</span>
          <button onClick={() => live.notices.dismiss(n.id)} aria-label="Dismiss" className="text-slate-300 hover:text-white">
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
