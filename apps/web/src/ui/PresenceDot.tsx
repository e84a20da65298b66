export function PresenceDot({ online, className = '' }: { online: boolean; className?: string }) {
  return (
    <span
      role="img"
      aria-label={online ? 'online' : 'offline'}
      title={online ? 'online' : 'offline'}
      className={`inline-block h-2.5 w-2.5 shrink-0 rounded-full ring-2 ring-white ${online ? 'bg-emerald-500' : 'bg-slate-300'} ${className}`}
    />
  );
}
