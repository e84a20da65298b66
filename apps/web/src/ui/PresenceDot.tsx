import { useConnectionStatus } from './live-hooks';

/** Online, offline, or unknown while this client is disconnected (it hears no presence changes then). */
export function usePresenceWord(online: boolean): 'online' | 'offline' | 'unknown' {
  const status = useConnectionStatus();
  if (status.state !== 'connected') return 'unknown';
  return online ? 'online' : 'offline';
}

const COLOURS = { online: 'bg-emerald-500', offline: 'bg-slate-300', unknown: 'bg-surface ring-slate-300' } as const;

export function PresenceDot({ online, className = '' }: { online: boolean; className?: string }) {
  const word = usePresenceWord(online);
  return (
    <span
      role="img"
      aria-label={word}
      title={word === 'unknown' ? 'unknown while you are disconnected' : word}
      className={`inline-block h-2.5 w-2.5 shrink-0 rounded-full ring-2 ring-surface ${COLOURS[word]} ${className}`}
    />
  );
}
