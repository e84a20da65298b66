import { bannerFor } from '../chat/connection-banner';
import { useConnectionStatus, useHeldFor, useNow, useQueuedCount } from './live-hooks';
import { useLive } from './live-session-context';

/**
 * How long a first connection may take before the banner says "Connecting…". A quick one shows nothing: the
 * banner would flash on every page load and shift the whole screen down and back up under the user's pointer.
 */
const FIRST_CONNECT_QUIET_MS = 1_000;

const TONES = {
  info: 'bg-sky-100 text-sky-900',
  warning: 'bg-amber-100 text-amber-900',
  error: 'bg-red-100 text-red-800',
} as const;

/**
 * The connection as it is: connecting (once the first try is slow), reconnecting with the countdown to the next
 * attempt, offline, draining.
 */
export function ConnectionBanner() {
  const live = useLive();
  const status = useConnectionStatus();
  const queued = useQueuedCount();
  const now = useNow(status.retryAt !== undefined);
  const firstTry = status.state === 'connecting' && status.attempt === 0 && status.retryAt === undefined;
  const slowFirstTry = useHeldFor(firstTry, FIRST_CONNECT_QUIET_MS);
  const banner = firstTry && !slowFirstTry ? undefined : bannerFor(status, now, queued);
  return (
    // The live region stays mounted so screen readers announce changes, not just first appearances.
    <div role="status" aria-live="polite" data-connection-state={status.state}>
      {banner && (
        <div className={`flex flex-wrap items-center justify-center gap-x-3 px-4 py-1.5 text-center text-sm ${TONES[banner.tone]}`}>
          <span>{banner.text}</span>
          {banner.canRetry && (
            <button onClick={live.reconnect} className="font-medium underline underline-offset-2 focus:outline-none focus-visible:ring-2 focus-visible:ring-current">
              Retry now
            </button>
          )}
        </div>
      )}
    </div>
  );
}
