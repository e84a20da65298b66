import { connectionLabel } from '../chat/connection-label';
import { useConnectionState } from './live-hooks';
import { useLive } from './live-session-context';

export function ConnectionBanner() {
  const live = useLive();
  const state = useConnectionState();
  const label = connectionLabel(state);
  if (!label) return null;
  return (
    <div role="status" className={`px-4 py-1.5 text-center text-sm ${state === 'offline' ? 'bg-red-100 text-red-800' : 'bg-amber-100 text-amber-900'}`}>
      {label}
      {state === 'offline' && (
        <button onClick={live.reconnect} className="ml-2 font-medium underline">
          Retry now
        </button>
      )}
    </div>
  );
}
